package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// LogoutDelivery is a logout token to send to one client (OpenID Connect
// Back-Channel Logout 1.0 §2.5): a row of the logout outbox, written in
// the transaction that ends the user's session (or all of them). It holds
// what the token will say; the token is signed when it is sent. Its ID is
// the token's jti on every attempt, so that a client that handled a
// delivery whose answer was lost recognises it.
type LogoutDelivery struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	ClientID string
	// UserID is the token's sub; SID its sid ("" for a logout of every
	// session of the user, at a client that does not need the sid).
	UserID string
	SID    string `gorm:"column:sid"`
	// Reason says what ended the session, for the audit log.
	Reason         string
	Attempts       int
	NextAttemptAt  time.Time
	Status         string
	LastStatusCode int
	LastError      string
	ClaimToken     string
	ClaimedUntil   *time.Time
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Audit actions of back-channel logout deliveries: one event per delivery,
// when it was delivered or given up on.
const (
	ActionLogoutDelivered = "logout.backchannel_delivered"
	ActionLogoutFailed    = "logout.backchannel_failed"
)

// SessionSID returns the sid of a session (OpenID Connect Front-/Back-
// Channel Logout: the "session ID" in ID and logout tokens): stable for a
// sign-in, kept when the session rotates (a step-up, a password change),
// and derived so that it tells a client nothing of the session's cookie
// or of the sign-in's request.
func SessionSID(sess *Session) string {
	key := sess.SignInID
	if key == "" {
		key = "session\x00" + sess.ID
	}
	sum := sha256.Sum256([]byte("gatehouse sid\x00" + sess.TenantID + "\x00" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// logoutTarget is a (client, user, session) a logout token goes to.
type logoutTarget struct {
	ClientID, UserID string
	SID              string `gorm:"column:sid"`
	SessionRequired  bool
}

// enqueueLogouts writes, in tx, a logout delivery to every client of tenant
// tid that registered a back-channel logout URI and holds a token family
// matching where (a condition on grants g), one per (client, user,
// session). A client that needs the sid gets nothing for a family that has
// none (it could not tell which of its sessions to end).
func enqueueLogouts(tx *gorm.DB, tid string, now time.Time, reason string, where string, args ...any) error {
	var ts []logoutTarget
	err := tx.Table("grants g").
		Select("g.client_id, g.user_id, g.sid, c.backchannel_logout_session_required AS session_required").
		Joins("JOIN clients c ON c.tenant_id = g.tenant_id AND c.client_id = g.client_id").
		Where("g.tenant_id = ? AND c.backchannel_logout_uri <> ''", tid).
		Where(where, args...).
		Group("g.client_id, g.user_id, g.sid, c.backchannel_logout_session_required").Order("g.client_id, g.sid").Scan(&ts).Error
	if err != nil {
		return err
	}
	var ds []*LogoutDelivery
	for _, t := range ts {
		if t.SID == "" && t.SessionRequired {
			continue
		}
		ds = append(ds, &LogoutDelivery{ID: newID(), TenantID: tid, ClientID: t.ClientID, UserID: t.UserID, SID: t.SID,
			Reason: Truncate(reason, 200), NextAttemptAt: now, Status: DeliveryPending, CreatedAt: now, UpdatedAt: now})
	}
	if len(ds) == 0 {
		return nil
	}
	return tx.Create(ds).Error
}

// enqueueUserLogouts writes, in tx, the logout deliveries of every session
// of a user of tenant tid: the families of the user's live sessions, and
// every family of the user not yet revoked nor expired.
func enqueueUserLogouts(tx *gorm.DB, tid, userID string, now time.Time, reason string) error {
	var sessions []Session
	if err := tx.Table("sessions").Where("tenant_id = ? AND user_id = ?", tid, userID).Find(&sessions).Error; err != nil {
		return err
	}
	sids := []string{""}
	for i := range sessions {
		sids = append(sids, SessionSID(&sessions[i]))
	}
	return enqueueLogouts(tx, tid, now, reason,
		"g.user_id = ? AND ((g.revoked_at IS NULL AND g.expires_at > ?) OR (g.sid <> '' AND g.sid IN ?))", userID, now, sids)
}

// enqueueSessionLogouts writes, in tx, the logout deliveries of one
// session: to every client that holds a family of the session's sign-in.
func enqueueSessionLogouts(tx *gorm.DB, sess *Session, now time.Time, reason string) error {
	return enqueueLogouts(tx, sess.TenantID, now, reason, "g.user_id = ? AND g.sid = ?", sess.UserID, SessionSID(sess))
}

// LogoutSession ends the session with id (the hash of its cookie) in the
// tenant of ctx, as the user signing out does: with a logout token to
// every client of the session that asked for one, in the same
// transaction. Ending a session that does not exist is not an error.
func (s *Store) LogoutSession(ctx context.Context, id string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var sess Session
		err := tx.Table("sessions").Where("tenant_id = ? AND id = ?", tid, id).Take(&sess).Error
		if err == gorm.ErrRecordNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if err := enqueueSessionLogouts(tx, &sess, s.now(), "signed out"); err != nil {
			return err
		}
		return tx.Exec("DELETE FROM sessions WHERE tenant_id = ? AND id = ?", tid, id).Error
	}))
}

// ListLogoutDeliveries returns the newest logout deliveries to a client of
// the tenant in ctx, newest first, at most limit.
func (s *Store) ListLogoutDeliveries(ctx context.Context, clientID string, limit int) ([]LogoutDelivery, error) {
	q, _, err := s.scoped(ctx, "logout_deliveries")
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var ds []LogoutDelivery
	return ds, mapErr(q.Where("client_id = ?", clientID).Order("id DESC").Limit(limit).Find(&ds).Error)
}

// ClaimedLogout is a logout delivery a node claimed, with where it goes.
type ClaimedLogout struct {
	LogoutDelivery
	URL string `gorm:"column:url"`
	// Alg is the client's id_token_signed_response_alg: the token is
	// signed as its ID tokens are.
	Alg string `gorm:"column:alg"`
}

// ClaimLogoutDeliveries claims up to limit due logout deliveries of every
// tenant for lease, as ClaimWebhookDeliveries does webhook deliveries
// (FOR UPDATE SKIP LOCKED on PostgreSQL). A delivery whose client no
// longer has a back-channel logout URI (or no longer exists) is not
// claimed; ClaimLogoutDeliveries marks it failed. It is the dispatcher's,
// and not tenant-scoped.
func (s *Store) ClaimLogoutDeliveries(ctx context.Context, token string, lease time.Duration, limit int) ([]ClaimedLogout, error) {
	now := s.now()
	due := "SELECT d.id FROM logout_deliveries d " +
		"WHERE d.status = ? AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?) " +
		"ORDER BY d.next_attempt_at LIMIT ?"
	var found []string
	if err := s.conn(ctx).Raw(due, DeliveryPending, now, now, 1).Scan(&found).Error; err != nil || len(found) == 0 {
		return nil, mapErr(err)
	}
	var out []ClaimedLogout
	err := s.tx(ctx, func(tx *gorm.DB) error {
		out = nil
		pick := due
		if s.dialect == DialectPostgres {
			pick += " FOR UPDATE OF d SKIP LOCKED"
		}
		var ids []string
		if err := tx.Raw(pick, DeliveryPending, now, now, limit).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// Deliveries to a client that stopped listening fail at once.
		if err := tx.Exec("UPDATE logout_deliveries SET status = ?, last_error = ?, updated_at = ? WHERE id IN ? AND NOT EXISTS "+
			"(SELECT 1 FROM clients c WHERE c.tenant_id = logout_deliveries.tenant_id AND c.client_id = logout_deliveries.client_id "+
			"AND c.backchannel_logout_uri <> '')", DeliveryFailed, "the application has no back-channel logout URI", now, ids).Error; err != nil {
			return err
		}
		until := now.Add(lease)
		if err := tx.Table("logout_deliveries").Where("id IN ? AND status = ?", ids, DeliveryPending).
			Updates(map[string]any{"claim_token": token, "claimed_until": until}).Error; err != nil {
			return err
		}
		return tx.Table("logout_deliveries d").
			Select("d.*, c.backchannel_logout_uri AS url, c.id_token_signed_response_alg AS alg").
			Joins("JOIN clients c ON c.tenant_id = d.tenant_id AND c.client_id = d.client_id").
			Where("d.id IN ? AND d.claim_token = ?", ids, token).Order("d.next_attempt_at").Scan(&out).Error
	})
	return out, mapErr(err)
}

// ReleaseLogoutDeliveries gives back what the claim token holds and was
// not sent.
func (s *Store) ReleaseLogoutDeliveries(ctx context.Context, token string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return mapErr(s.conn(ctx).Table("logout_deliveries").Where("claim_token = ? AND id IN ?", token, ids).
		Updates(map[string]any{"claim_token": "", "claimed_until": nil}).Error)
}

// LogoutResult is the outcome of one attempt at a claimed logout delivery.
type LogoutResult struct {
	Delivery   *ClaimedLogout
	Token      string
	OK         bool
	StatusCode int
	Error      string
	// NextAttempt is when to try again after a failure; zero gives up.
	NextAttempt time.Time
}

// CompleteLogoutDelivery records an attempt at a claimed logout delivery:
// its new state and, once it was delivered or given up on, an audit event
// in its tenant's log (ActionLogoutDelivered, ActionLogoutFailed), in one
// transaction. A claim that lapsed and was taken by another node records
// nothing. It is the dispatcher's, and not tenant-scoped.
func (s *Store) CompleteLogoutDelivery(ctx context.Context, r LogoutResult) error {
	d := r.Delivery
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		lastErr := Truncate(r.Error, 512)
		cols := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_status_code": r.StatusCode, "last_error": lastErr,
			"claim_token": "", "claimed_until": nil, "updated_at": now}
		ev := &AuditEvent{ID: newID(), TenantID: d.TenantID, OccurredAt: now, ActorKind: "system", ActorID: "gatehouse",
			TargetType: "user", TargetID: d.UserID, ClientID: d.ClientID}
		attempts := d.Attempts + 1
		switch {
		case r.OK:
			cols["status"], cols["delivered_at"] = DeliveryDelivered, now
			ev.Action, ev.Outcome = ActionLogoutDelivered, "success"
			ev.Reason = fmt.Sprintf("%s; delivered at attempt %d", d.Reason, attempts)
		case r.NextAttempt.IsZero():
			cols["status"] = DeliveryFailed
			ev.Action, ev.Outcome = ActionLogoutFailed, "failure"
			ev.Reason = fmt.Sprintf("%s; gave up after %d attempts: %s", d.Reason, attempts, lastErr)
		default:
			cols["next_attempt_at"] = r.NextAttempt
			ev = nil
		}
		res := tx.Table("logout_deliveries").Where("tenant_id = ? AND id = ? AND claim_token = ?", d.TenantID, d.ID, r.Token).Updates(cols)
		if res.Error != nil || res.RowsAffected == 0 || ev == nil {
			return res.Error
		}
		return s.insertAudits(tx, now, []*AuditEvent{ev})
	}))
}

// PruneLogoutDeliveries deletes, across tenants, logout deliveries
// finished (delivered or failed) before cutoff.
func (s *Store) PruneLogoutDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.conn(ctx).Exec("DELETE FROM logout_deliveries WHERE status <> ? AND updated_at < ?", DeliveryPending, cutoff)
	return res.RowsAffected, mapErr(res.Error)
}
