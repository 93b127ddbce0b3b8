-- Each user's access revision (issue 10): a value that changes, in the
-- same transaction, with anything a user's access is read from
-- (tenants.Store.UserAccess): the roles held directly, the group
-- memberships, the groups' roles, the roles' permissions, the names of
-- roles and groups, the audience of an API, the upstream groups of the
-- user's identities and the group mappings and pass-through of their
-- connections. Tokens read the user row anyway; a cache of access keyed by
-- (user, revision) then needs no read of its own and is never stale, on
-- any node. The database keeps it, through the triggers below, so that no
-- write path (a service, an import, a cascade) can forget it. A new
-- revision is random rather than the next number, so that a user deleted
-- and created again under the same id can never meet an old revision.
-- Deletes of roles, groups, APIs and connections reach the links through
-- their cascades (or the store's own deletes), whose triggers bump.
-- Every user starts at a random revision (existing users too, and new
-- ones through users_access_insert: SQLite adds no column with a default
-- that is not constant): 0 is no revision, what a user read without the
-- column carries, and the cache never keeps access under it.
ALTER TABLE users ADD COLUMN access_revision INTEGER NOT NULL DEFAULT 0;
UPDATE users SET access_revision = random();

CREATE TRIGGER users_access_insert AFTER INSERT ON users
  WHEN NEW.access_revision = 0
BEGIN
  UPDATE users SET access_revision = random() WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER user_roles_access_insert AFTER INSERT ON user_roles
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
END;

CREATE TRIGGER user_roles_access_delete AFTER DELETE ON user_roles
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
END;

CREATE TRIGGER group_members_access_insert AFTER INSERT ON group_members
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
END;

CREATE TRIGGER group_members_access_delete AFTER DELETE ON group_members
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
END;

CREATE TRIGGER user_roles_access_update AFTER UPDATE ON user_roles
  WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.user_id IS NOT NEW.user_id OR OLD.role_id IS NOT NEW.role_id
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
END;

CREATE TRIGGER group_members_access_update AFTER UPDATE ON group_members
  WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.user_id IS NOT NEW.user_id OR OLD.group_id IS NOT NEW.group_id
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
END;

CREATE TRIGGER external_identities_access_insert AFTER INSERT ON external_identities
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
END;

CREATE TRIGGER external_identities_access_delete AFTER DELETE ON external_identities
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
END;

CREATE TRIGGER external_identities_access_update AFTER UPDATE ON external_identities
  WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.user_id IS NOT NEW.user_id OR OLD.connection_id IS NOT NEW.connection_id OR OLD.upstream_groups IS NOT NEW.upstream_groups
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
END;

CREATE TRIGGER group_roles_access_insert AFTER INSERT ON group_roles
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = NEW.tenant_id AND group_id = NEW.group_id);
END;

CREATE TRIGGER group_roles_access_delete AFTER DELETE ON group_roles
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = OLD.tenant_id AND group_id = OLD.group_id);
END;

CREATE TRIGGER group_roles_access_update AFTER UPDATE ON group_roles
  WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.group_id IS NOT NEW.group_id OR OLD.role_id IS NOT NEW.role_id
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = OLD.tenant_id AND group_id = OLD.group_id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = NEW.tenant_id AND group_id = NEW.group_id);
END;

CREATE TRIGGER user_groups_access_update AFTER UPDATE ON user_groups
  WHEN OLD.name IS NOT NEW.name
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = OLD.tenant_id AND group_id = OLD.id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = NEW.tenant_id AND group_id = NEW.id);
END;

CREATE TRIGGER role_permissions_access_insert AFTER INSERT ON role_permissions
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = NEW.tenant_id AND role_id = NEW.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = NEW.tenant_id AND group_roles.role_id = NEW.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
END;

CREATE TRIGGER role_permissions_access_delete AFTER DELETE ON role_permissions
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = OLD.tenant_id AND role_id = OLD.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = OLD.tenant_id AND group_roles.role_id = OLD.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
END;

CREATE TRIGGER role_permissions_access_update AFTER UPDATE ON role_permissions
  WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.role_id IS NOT NEW.role_id OR OLD.api_id IS NOT NEW.api_id OR OLD.scope IS NOT NEW.scope
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = OLD.tenant_id AND role_id = OLD.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = OLD.tenant_id AND group_roles.role_id = OLD.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = NEW.tenant_id AND role_id = NEW.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = NEW.tenant_id AND group_roles.role_id = NEW.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
END;

CREATE TRIGGER roles_access_update AFTER UPDATE ON roles
  WHEN OLD.name IS NOT NEW.name
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = OLD.tenant_id AND role_id = OLD.id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = OLD.tenant_id AND group_roles.role_id = OLD.id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = NEW.tenant_id AND role_id = NEW.id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = NEW.tenant_id AND group_roles.role_id = NEW.id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
END;

CREATE TRIGGER apis_access_update AFTER UPDATE ON apis
  WHEN OLD.audience IS NOT NEW.audience
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_roles.user_id FROM role_permissions CROSS JOIN user_roles
      WHERE role_permissions.tenant_id = OLD.tenant_id AND role_permissions.api_id = OLD.id
        AND user_roles.tenant_id = role_permissions.tenant_id AND user_roles.role_id = role_permissions.role_id
      UNION SELECT group_members.user_id FROM role_permissions CROSS JOIN group_roles CROSS JOIN group_members
      WHERE role_permissions.tenant_id = OLD.tenant_id AND role_permissions.api_id = OLD.id
        AND group_roles.tenant_id = role_permissions.tenant_id AND group_roles.role_id = role_permissions.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_roles.user_id FROM role_permissions CROSS JOIN user_roles
      WHERE role_permissions.tenant_id = NEW.tenant_id AND role_permissions.api_id = NEW.id
        AND user_roles.tenant_id = role_permissions.tenant_id AND user_roles.role_id = role_permissions.role_id
      UNION SELECT group_members.user_id FROM role_permissions CROSS JOIN group_roles CROSS JOIN group_members
      WHERE role_permissions.tenant_id = NEW.tenant_id AND role_permissions.api_id = NEW.id
        AND group_roles.tenant_id = role_permissions.tenant_id AND group_roles.role_id = role_permissions.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
END;

CREATE TRIGGER connection_group_maps_access_insert AFTER INSERT ON connection_group_maps
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.connection_id);
END;

CREATE TRIGGER connection_group_maps_access_delete AFTER DELETE ON connection_group_maps
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = OLD.tenant_id AND connection_id = OLD.connection_id);
END;

CREATE TRIGGER connection_group_maps_access_update AFTER UPDATE ON connection_group_maps
  WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.connection_id IS NOT NEW.connection_id OR OLD.upstream_group IS NOT NEW.upstream_group OR OLD.group_id IS NOT NEW.group_id
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = OLD.tenant_id AND connection_id = OLD.connection_id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.connection_id);
END;

CREATE TRIGGER connections_access_update AFTER UPDATE ON connections
  WHEN OLD.pass_groups IS NOT NEW.pass_groups
BEGIN
  UPDATE users SET access_revision = random() WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = OLD.tenant_id AND connection_id = OLD.id);
  UPDATE users SET access_revision = random() WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.id);
END;
