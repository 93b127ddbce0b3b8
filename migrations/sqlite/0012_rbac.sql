-- Roles, permissions and groups per tenant (issue 10). A role bundles
-- permissions (an API's scopes); a group has members and roles; a user
-- holds roles directly and through groups. Every link carries the tenant
-- and references its rows by (tenant_id, id), so that a link can never join
-- rows of two tenants.
-- An API with rbac on grants a user only the scopes the user's roles hold;
-- token_claims (JSON array of "roles", "groups") names the claims its
-- access tokens carry.
ALTER TABLE apis ADD COLUMN rbac BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE apis ADD COLUMN token_claims TEXT NOT NULL DEFAULT '[]';

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX roles_tenant_name_key ON roles (tenant_id, name);
CREATE UNIQUE INDEX roles_tenant_id_key ON roles (tenant_id, id);

-- A permission of a role: scope of the API api_id. A scope the API no
-- longer defines is removed with it (UpdateAPI).
CREATE TABLE role_permissions (
    tenant_id  TEXT NOT NULL,
    role_id    TEXT NOT NULL,
    api_id     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (role_id, api_id, scope),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, api_id) REFERENCES apis (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX role_permissions_api_idx ON role_permissions (tenant_id, api_id);

CREATE TABLE user_groups (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX user_groups_tenant_name_key ON user_groups (tenant_id, name);
CREATE UNIQUE INDEX user_groups_tenant_id_key ON user_groups (tenant_id, id);

CREATE TABLE group_members (
    tenant_id  TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user_idx ON group_members (tenant_id, user_id);

CREATE TABLE group_roles (
    tenant_id  TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    role_id    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (group_id, role_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES user_groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_roles_role_idx ON group_roles (tenant_id, role_id);

CREATE TABLE user_roles (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    role_id    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, role_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_roles_role_idx ON user_roles (tenant_id, role_id);
