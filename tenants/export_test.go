package tenants

import "context"

// InsertReturningForTest writes a DPoP proof row with INSERT ... RETURNING,
// the write that goes through the pool's QueryContext as a read does: the
// retry of reads must tell it from one by its text.
func InsertReturningForTest(ctx context.Context, s *Store, tenantID, jkt, jti string) error {
	var got string
	return s.db.WithContext(ctx).Raw("INSERT INTO dpop_proofs (tenant_id, jkt, jti, expires_at) VALUES (?, ?, ?, ?) RETURNING jti",
		tenantID, jkt, jti, s.now().Add(60e9)).Scan(&got).Error
}

// AccessStatementForTest is the statement of UserAccess for q.
func AccessStatementForTest(q AccessQuery, tenantID, userID string) (string, []any) {
	return accessStatement(q, tenantID, userID)
}
