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
-- Every bump (access_bump) first takes the tenant's access lock, an
-- advisory lock held to the end of the transaction, so that transactions
-- changing a tenant's access take turns. Without it, a bump that finds the
-- users concerned (the members of a group whose role was taken away)
-- could miss a member added by a transaction that commits while it runs,
-- whose new revision could then be cached with the role. Under the lock,
-- each bump sees every other change of the tenant's access committed, and
-- none is pending.
-- Every user starts at a random revision (existing users too): 0 is no
-- revision, what a user read without the column carries, and the cache
-- never keeps access under it.
ALTER TABLE users ADD COLUMN access_revision BIGINT NOT NULL DEFAULT floor(random() * 9007199254740991)::BIGINT + 1;

-- access_bump gives the users of tenant tid concerned by a change of the
-- kind's row ref a new revision, under the tenant's access lock: the user
-- ref, the members of the group ref, the holders (directly or through a
-- group) of the role ref, the holders of a role with a permission on the
-- API ref, the users with an identity at the connection ref.
CREATE FUNCTION access_bump(kind TEXT, tid TEXT, ref TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7311, hashtext(tid));
  IF kind = 'user' THEN
    UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = tid AND id = ref;
  ELSIF kind = 'group' THEN
    UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = tid AND id IN (
      SELECT user_id FROM group_members WHERE tenant_id = tid AND group_id = ref);
  ELSIF kind = 'role' THEN
    UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = tid AND id IN (
      SELECT user_id FROM user_roles WHERE tenant_id = tid AND role_id = ref
      UNION SELECT group_members.user_id FROM group_roles CROSS JOIN group_members
      WHERE group_roles.tenant_id = tid AND group_roles.role_id = ref
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  ELSIF kind = 'api' THEN
    UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = tid AND id IN (
      SELECT user_roles.user_id FROM role_permissions CROSS JOIN user_roles
      WHERE role_permissions.tenant_id = tid AND role_permissions.api_id = ref
        AND user_roles.tenant_id = role_permissions.tenant_id AND user_roles.role_id = role_permissions.role_id
      UNION SELECT group_members.user_id FROM role_permissions CROSS JOIN group_roles CROSS JOIN group_members
      WHERE role_permissions.tenant_id = tid AND role_permissions.api_id = ref
        AND group_roles.tenant_id = role_permissions.tenant_id AND group_roles.role_id = role_permissions.role_id
        AND group_members.tenant_id = group_roles.tenant_id AND group_members.group_id = group_roles.group_id);
  ELSIF kind = 'connection' THEN
    UPDATE users SET access_revision = floor(random() * 9007199254740991)::BIGINT + 1 WHERE tenant_id = tid AND id IN (
      SELECT user_id FROM external_identities WHERE tenant_id = tid AND connection_id = ref);
  ELSE
    RAISE EXCEPTION 'access_bump: unknown kind %', kind;
  END IF;
END $$;

-- access_bump_trigger(kind, column) bumps, for the old row and the new,
-- what the row's column names (see access_bump).
CREATE FUNCTION access_bump_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM access_bump(TG_ARGV[0], OLD.tenant_id, to_jsonb(OLD) ->> TG_ARGV[1]);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM access_bump(TG_ARGV[0], NEW.tenant_id, to_jsonb(NEW) ->> TG_ARGV[1]);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER user_roles_access AFTER INSERT OR DELETE ON user_roles FOR EACH ROW
  EXECUTE FUNCTION access_bump_trigger('user', 'user_id');

CREATE TRIGGER user_roles_access_update AFTER UPDATE ON user_roles FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.role_id IS DISTINCT FROM NEW.role_id)
  EXECUTE FUNCTION access_bump_trigger('user', 'user_id');

CREATE TRIGGER group_members_access AFTER INSERT OR DELETE ON group_members FOR EACH ROW
  EXECUTE FUNCTION access_bump_trigger('user', 'user_id');

CREATE TRIGGER group_members_access_update AFTER UPDATE ON group_members FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.group_id IS DISTINCT FROM NEW.group_id)
  EXECUTE FUNCTION access_bump_trigger('user', 'user_id');

CREATE TRIGGER external_identities_access AFTER INSERT OR DELETE ON external_identities FOR EACH ROW
  EXECUTE FUNCTION access_bump_trigger('user', 'user_id');

CREATE TRIGGER external_identities_access_update AFTER UPDATE ON external_identities FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.connection_id IS DISTINCT FROM NEW.connection_id OR OLD.upstream_groups IS DISTINCT FROM NEW.upstream_groups)
  EXECUTE FUNCTION access_bump_trigger('user', 'user_id');

CREATE TRIGGER group_roles_access AFTER INSERT OR DELETE ON group_roles FOR EACH ROW
  EXECUTE FUNCTION access_bump_trigger('group', 'group_id');

CREATE TRIGGER group_roles_access_update AFTER UPDATE ON group_roles FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.group_id IS DISTINCT FROM NEW.group_id OR OLD.role_id IS DISTINCT FROM NEW.role_id)
  EXECUTE FUNCTION access_bump_trigger('group', 'group_id');

CREATE TRIGGER role_permissions_access AFTER INSERT OR DELETE ON role_permissions FOR EACH ROW
  EXECUTE FUNCTION access_bump_trigger('role', 'role_id');

CREATE TRIGGER role_permissions_access_update AFTER UPDATE ON role_permissions FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.role_id IS DISTINCT FROM NEW.role_id OR OLD.api_id IS DISTINCT FROM NEW.api_id OR OLD.scope IS DISTINCT FROM NEW.scope)
  EXECUTE FUNCTION access_bump_trigger('role', 'role_id');

CREATE TRIGGER connection_group_maps_access AFTER INSERT OR DELETE ON connection_group_maps FOR EACH ROW
  EXECUTE FUNCTION access_bump_trigger('connection', 'connection_id');

CREATE TRIGGER connection_group_maps_access_update AFTER UPDATE ON connection_group_maps FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.connection_id IS DISTINCT FROM NEW.connection_id OR OLD.upstream_group IS DISTINCT FROM NEW.upstream_group OR OLD.group_id IS DISTINCT FROM NEW.group_id)
  EXECUTE FUNCTION access_bump_trigger('connection', 'connection_id');

CREATE TRIGGER user_groups_access_update AFTER UPDATE ON user_groups FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION access_bump_trigger('group', 'id');

CREATE TRIGGER roles_access_update AFTER UPDATE ON roles FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION access_bump_trigger('role', 'id');

CREATE TRIGGER apis_access_update AFTER UPDATE ON apis FOR EACH ROW
  WHEN (OLD.audience IS DISTINCT FROM NEW.audience)
  EXECUTE FUNCTION access_bump_trigger('api', 'id');

CREATE TRIGGER connections_access_update AFTER UPDATE ON connections FOR EACH ROW
  WHEN (OLD.pass_groups IS DISTINCT FROM NEW.pass_groups)
  EXECUTE FUNCTION access_bump_trigger('connection', 'id');
