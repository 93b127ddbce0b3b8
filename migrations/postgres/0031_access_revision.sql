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
-- Every trigger first takes the tenant's access lock (an advisory lock
-- held to the end of the transaction), so that transactions changing a
-- tenant's access take turns: without it, a trigger that finds the users
-- concerned (the members of a group whose role was taken away) would
-- otherwise miss a member added by a transaction that commits while it
-- runs, whose new revision could then be cached with the role. Under the
-- lock, each bump sees every other change of the tenant's access
-- committed, and none is pending.
-- Every user starts at a random revision (existing users too): 0 is no
-- revision, what a user read without the column carries, and the cache
-- never keeps access under it.
ALTER TABLE users ADD COLUMN access_revision BIGINT NOT NULL DEFAULT floor(random() * 9007199254740991)::BIGINT + 1;

CREATE FUNCTION user_roles_access_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER user_roles_access_insert AFTER INSERT ON user_roles FOR EACH ROW
  EXECUTE FUNCTION user_roles_access_insert();

CREATE FUNCTION user_roles_access_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(OLD.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER user_roles_access_delete AFTER DELETE ON user_roles FOR EACH ROW
  EXECUTE FUNCTION user_roles_access_delete();

CREATE FUNCTION group_members_access_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER group_members_access_insert AFTER INSERT ON group_members FOR EACH ROW
  EXECUTE FUNCTION group_members_access_insert();

CREATE FUNCTION group_members_access_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(OLD.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER group_members_access_delete AFTER DELETE ON group_members FOR EACH ROW
  EXECUTE FUNCTION group_members_access_delete();

CREATE FUNCTION user_roles_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER user_roles_access_update AFTER UPDATE ON user_roles FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.role_id IS DISTINCT FROM NEW.role_id)
  EXECUTE FUNCTION user_roles_access_update();

CREATE FUNCTION group_members_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER group_members_access_update AFTER UPDATE ON group_members FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.group_id IS DISTINCT FROM NEW.group_id)
  EXECUTE FUNCTION group_members_access_update();

CREATE FUNCTION external_identities_access_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER external_identities_access_insert AFTER INSERT ON external_identities FOR EACH ROW
  EXECUTE FUNCTION external_identities_access_insert();

CREATE FUNCTION external_identities_access_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(OLD.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER external_identities_access_delete AFTER DELETE ON external_identities FOR EACH ROW
  EXECUTE FUNCTION external_identities_access_delete();

CREATE FUNCTION external_identities_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;
  RETURN NULL;
END $$;
CREATE TRIGGER external_identities_access_update AFTER UPDATE ON external_identities FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.connection_id IS DISTINCT FROM NEW.connection_id OR OLD.upstream_groups IS DISTINCT FROM NEW.upstream_groups)
  EXECUTE FUNCTION external_identities_access_update();

CREATE FUNCTION group_roles_access_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = NEW.tenant_id AND group_id = NEW.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER group_roles_access_insert AFTER INSERT ON group_roles FOR EACH ROW
  EXECUTE FUNCTION group_roles_access_insert();

CREATE FUNCTION group_roles_access_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(OLD.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = OLD.tenant_id AND group_id = OLD.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER group_roles_access_delete AFTER DELETE ON group_roles FOR EACH ROW
  EXECUTE FUNCTION group_roles_access_delete();

CREATE FUNCTION group_roles_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = OLD.tenant_id AND group_id = OLD.group_id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = NEW.tenant_id AND group_id = NEW.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER group_roles_access_update AFTER UPDATE ON group_roles FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.group_id IS DISTINCT FROM NEW.group_id OR OLD.role_id IS DISTINCT FROM NEW.role_id)
  EXECUTE FUNCTION group_roles_access_update();

CREATE FUNCTION user_groups_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = OLD.tenant_id AND group_id = OLD.id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM group_members WHERE tenant_id = NEW.tenant_id AND group_id = NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER user_groups_access_update AFTER UPDATE ON user_groups FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION user_groups_access_update();

CREATE FUNCTION role_permissions_access_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = NEW.tenant_id AND role_id = NEW.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = NEW.tenant_id AND group_roles.role_id = NEW.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER role_permissions_access_insert AFTER INSERT ON role_permissions FOR EACH ROW
  EXECUTE FUNCTION role_permissions_access_insert();

CREATE FUNCTION role_permissions_access_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(OLD.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = OLD.tenant_id AND role_id = OLD.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = OLD.tenant_id AND group_roles.role_id = OLD.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER role_permissions_access_delete AFTER DELETE ON role_permissions FOR EACH ROW
  EXECUTE FUNCTION role_permissions_access_delete();

CREATE FUNCTION role_permissions_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = OLD.tenant_id AND role_id = OLD.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = OLD.tenant_id AND group_roles.role_id = OLD.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = NEW.tenant_id AND role_id = NEW.role_id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = NEW.tenant_id AND group_roles.role_id = NEW.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER role_permissions_access_update AFTER UPDATE ON role_permissions FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.role_id IS DISTINCT FROM NEW.role_id OR OLD.api_id IS DISTINCT FROM NEW.api_id OR OLD.scope IS DISTINCT FROM NEW.scope)
  EXECUTE FUNCTION role_permissions_access_update();

CREATE FUNCTION roles_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = OLD.tenant_id AND role_id = OLD.id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = OLD.tenant_id AND group_roles.role_id = OLD.id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM user_roles WHERE tenant_id = NEW.tenant_id AND role_id = NEW.id
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = NEW.tenant_id AND group_roles.role_id = NEW.id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER roles_access_update AFTER UPDATE ON roles FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION roles_access_update();

CREATE FUNCTION apis_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_roles.user_id FROM role_permissions CROSS JOIN user_roles
      WHERE role_permissions.tenant_id = OLD.tenant_id AND role_permissions.api_id = OLD.id
        AND user_roles.tenant_id = role_permissions.tenant_id AND user_roles.role_id = role_permissions.role_id
      UNION SELECT group_members.user_id FROM role_permissions CROSS JOIN group_roles CROSS JOIN group_members
      WHERE role_permissions.tenant_id = OLD.tenant_id AND role_permissions.api_id = OLD.id
        AND group_roles.tenant_id = role_permissions.tenant_id AND group_roles.role_id = role_permissions.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_roles.user_id FROM role_permissions CROSS JOIN user_roles
      WHERE role_permissions.tenant_id = NEW.tenant_id AND role_permissions.api_id = NEW.id
        AND user_roles.tenant_id = role_permissions.tenant_id AND user_roles.role_id = role_permissions.role_id
      UNION SELECT group_members.user_id FROM role_permissions CROSS JOIN group_roles CROSS JOIN group_members
      WHERE role_permissions.tenant_id = NEW.tenant_id AND role_permissions.api_id = NEW.id
        AND group_roles.tenant_id = role_permissions.tenant_id AND group_roles.role_id = role_permissions.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  RETURN NULL;
END $$;
CREATE TRIGGER apis_access_update AFTER UPDATE ON apis FOR EACH ROW
  WHEN (OLD.audience IS DISTINCT FROM NEW.audience)
  EXECUTE FUNCTION apis_access_update();

CREATE FUNCTION connection_group_maps_access_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.connection_id);
  RETURN NULL;
END $$;
CREATE TRIGGER connection_group_maps_access_insert AFTER INSERT ON connection_group_maps FOR EACH ROW
  EXECUTE FUNCTION connection_group_maps_access_insert();

CREATE FUNCTION connection_group_maps_access_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(OLD.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = OLD.tenant_id AND connection_id = OLD.connection_id);
  RETURN NULL;
END $$;
CREATE TRIGGER connection_group_maps_access_delete AFTER DELETE ON connection_group_maps FOR EACH ROW
  EXECUTE FUNCTION connection_group_maps_access_delete();

CREATE FUNCTION connection_group_maps_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = OLD.tenant_id AND connection_id = OLD.connection_id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.connection_id);
  RETURN NULL;
END $$;
CREATE TRIGGER connection_group_maps_access_update AFTER UPDATE ON connection_group_maps FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.connection_id IS DISTINCT FROM NEW.connection_id OR OLD.upstream_group IS DISTINCT FROM NEW.upstream_group OR OLD.group_id IS DISTINCT FROM NEW.group_id)
  EXECUTE FUNCTION connection_group_maps_access_update();

CREATE FUNCTION connections_access_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(NEW.tenant_id));
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = OLD.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = OLD.tenant_id AND connection_id = OLD.id);
  UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = NEW.tenant_id AND id IN (SELECT user_id FROM external_identities WHERE tenant_id = NEW.tenant_id AND connection_id = NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER connections_access_update AFTER UPDATE ON connections FOR EACH ROW
  WHEN (OLD.pass_groups IS DISTINCT FROM NEW.pass_groups)
  EXECUTE FUNCTION connections_access_update();
