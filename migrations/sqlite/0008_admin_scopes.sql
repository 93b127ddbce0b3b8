-- The management scopes an administrator (a user of the system tenant) may
-- use, whatever their console session's or token's scopes say: what an
-- operator narrows takes effect on the administrator's next request. (A
-- management client's scopes are its grant of the management API.)
CREATE TABLE admin_user_scopes (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '[]',
    updated_at DATETIME NOT NULL
);
-- Administrators made before this migration keep every scope they had.
INSERT INTO admin_user_scopes (user_id, scopes, updated_at)
SELECT DISTINCT r.principal_id, '["audit:read","tenants:read","tenants:write"]', strftime('%Y-%m-%d %H:%M:%f', 'now')
FROM admin_roles r JOIN users u ON u.id = r.principal_id
WHERE r.principal_kind = 'user';
