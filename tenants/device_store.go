package tenants

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// CreateDeviceAuthorization stores a device authorization request in the
// tenant of ctx. A user code the tenant already holds fails with
// ErrAlreadyExists (the caller draws another); a client the tenant does not
// have, with ErrNotFound.
func (s *Store) CreateDeviceAuthorization(ctx context.Context, d *DeviceAuthorization) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	if d.ID == "" {
		d.ID = NewRandomID()
	}
	if d.Status == "" {
		d.Status = DevicePending
	}
	d.TenantID = tid
	d.CreatedAt = s.now()
	return mapErr(s.conn(ctx).Create(d).Error)
}

// DeviceAuthorizationByUserCode returns the pending, unexpired device
// authorization whose user code is userCode, in the tenant of ctx.
func (s *Store) DeviceAuthorizationByUserCode(ctx context.Context, userCode string) (*DeviceAuthorization, error) {
	q, _, err := s.scoped(ctx, "device_authorizations")
	if err != nil {
		return nil, err
	}
	var d DeviceAuthorization
	if err := first(q.Where("user_code = ? AND status = ? AND expires_at > ?", userCode, DevicePending, s.now()), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeviceAuthorizationByID returns the unexpired device authorization id, in
// any state, in the tenant of ctx.
func (s *Store) DeviceAuthorizationByID(ctx context.Context, id string) (*DeviceAuthorization, error) {
	q, _, err := s.scoped(ctx, "device_authorizations")
	if err != nil {
		return nil, err
	}
	var d DeviceAuthorization
	if err := first(q.Where("id = ? AND expires_at > ?", id, s.now()), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeviceAuthorizationByCodeHash returns the device authorization whose
// device code hashes to codeHash, in any state and expired or not (so that
// the token endpoint can say expired_token), in the tenant of ctx.
func (s *Store) DeviceAuthorizationByCodeHash(ctx context.Context, codeHash string) (*DeviceAuthorization, error) {
	q, _, err := s.scoped(ctx, "device_authorizations")
	if err != nil {
		return nil, err
	}
	var d DeviceAuthorization
	if err := first(q.Where("device_code_hash = ?", codeHash), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ApproveDeviceAuthorization records that the user of a approved the
// pending, unexpired device authorization id. Any other state fails with
// ErrConflict: the user answers once.
func (s *Store) ApproveDeviceAuthorization(ctx context.Context, id string, a Authentication) error {
	return s.answerDevice(ctx, id, map[string]any{
		"status": DeviceApproved, "user_id": a.UserID, "auth_time": a.Time, "amr": Strings(a.AMR), "idp": a.IDP, "acr": a.ACR,
	})
}

// DenyDeviceAuthorization records that the user refused the pending,
// unexpired device authorization id; any other state fails with
// ErrConflict.
func (s *Store) DenyDeviceAuthorization(ctx context.Context, id string) error {
	return s.answerDevice(ctx, id, map[string]any{"status": DeviceDenied})
}

func (s *Store) answerDevice(ctx context.Context, id string, cols map[string]any) error {
	q, _, err := s.scoped(ctx, "device_authorizations")
	if err != nil {
		return err
	}
	res := q.Where("id = ? AND status = ? AND expires_at > ?", id, DevicePending, s.now()).Updates(cols)
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrConflict
	}
	return nil
}

// PollDeviceAuthorization records a poll of the token endpoint for the
// device authorization id and returns it as it is after the poll. A poll
// sooner than the interval after the previous one is too early (RFC 8628
// §3.5): the interval grows by backoff, for this node and every other, and
// early is true. Either way the poll's time is kept, in one transaction, so
// that concurrent polls are judged one after the other.
func (s *Store) PollDeviceAuthorization(ctx context.Context, id string, backoff time.Duration) (d *DeviceAuthorization, early bool, err error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var row DeviceAuthorization
		q := s.forUpdate(tx.Table("device_authorizations").Where("tenant_id = ? AND id = ?", tid, id))
		if err := first(q, &row); err != nil {
			return err
		}
		cols := map[string]any{"last_polled_at": now}
		if row.LastPolledAt != nil && now.Before(row.LastPolledAt.Add(row.Interval())) {
			early = true
			row.IntervalSeconds += int64(backoff / time.Second)
			cols["interval_seconds"] = row.IntervalSeconds
		}
		res := tx.Table("device_authorizations").Where("tenant_id = ? AND id = ?", tid, id).Updates(cols)
		if res.Error != nil {
			return res.Error
		}
		row.LastPolledAt = &now
		d = &row
		return nil
	})
	if err != nil {
		return nil, false, mapErr(err)
	}
	return d, early, nil
}

// RedeemDeviceAuthorization claims the approved, unexpired device
// authorization id and stores the tokens issued for it, in one
// transaction: of concurrent redemptions exactly one succeeds. Any other
// state fails with ErrConflict and writes nothing.
func (s *Store) RedeemDeviceAuthorization(ctx context.Context, id string, issue Issue) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.prepareAudits(ctx, tid, issue.Events); err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Table("device_authorizations").
			Where("tenant_id = ? AND id = ? AND status = ? AND expires_at > ?", tid, id, DeviceApproved, now).
			Updates(map[string]any{"status": DeviceRedeemed, "grant_id": issue.Grant.ID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		return s.insertIssue(tx, tid, now, issue)
	}))
}
