-- Grants of the access policy (core/access.go): an action given to a user, or to
-- a group and through it to every member, on one resource (resource_id) or on
-- every resource of the action's type (resource_id ''). A grant goes with its
-- user or group (ON DELETE CASCADE). Same conventions as 0001: TEXT ids, BIGINT
-- microsecond times.
CREATE TABLE grants (
	id          TEXT PRIMARY KEY,
	user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
	group_id    TEXT REFERENCES user_groups (id) ON DELETE CASCADE,
	action      TEXT NOT NULL,
	resource_id TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX grants_key ON grants (COALESCE(user_id, ''), COALESCE(group_id, ''), action, resource_id);
CREATE INDEX grants_user ON grants (user_id);
CREATE INDEX grants_group ON grants (group_id);
CREATE INDEX grants_resource ON grants (resource_id, action);
CREATE INDEX grants_order ON grants (created_at, id);
