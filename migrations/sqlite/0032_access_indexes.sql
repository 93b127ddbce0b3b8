-- Indexes for what a token reads of its user's access (tenants.Store.
-- UserAccess) and for the access revision's triggers (0031). The link
-- tables' primary keys do not start with the tenant, and their indexes
-- that do named another column: SQLite, with no statistics, read a user's
-- roles through user_roles_role_idx (every hold of the tenant) and a
-- group's roles through group_roles_role_idx, so that one token's read
-- grew with the tenant's users (about 0.8 ms at 3000 users with a role
-- each, in BenchmarkClaimRules/sqlite/ten_rules_new_user_each).
CREATE INDEX user_roles_user_idx ON user_roles (tenant_id, user_id);
CREATE INDEX group_roles_group_idx ON group_roles (tenant_id, group_id);
CREATE INDEX group_members_group_idx ON group_members (tenant_id, group_id);
CREATE INDEX role_permissions_role_idx ON role_permissions (tenant_id, role_id);
CREATE INDEX connection_group_maps_connection_idx ON connection_group_maps (tenant_id, connection_id);
