-- Identity: domains, users' domain, groups and their members, role grants on
-- projects, and API tokens (only a SHA-256 of each secret is kept). Same
-- conventions as 0001: TEXT ids, BIGINT microsecond times.

CREATE TABLE domains (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL
);
INSERT INTO domains (id, name, description, created_at) VALUES ('default', 'Default', 'The default domain', 0);

ALTER TABLE users ADD COLUMN domain_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX users_domain ON users (domain_id, name);

CREATE TABLE user_groups (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	domain_id   TEXT NOT NULL REFERENCES domains (id),
	description TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_domain_name ON user_groups (domain_id, name);
CREATE INDEX groups_order ON user_groups (created_at, id);

CREATE TABLE group_members (
	group_id   TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE role_grants (
	project_id TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, user_id, role)
);
CREATE INDEX role_grants_user ON role_grants (user_id);

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	token_hash TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	project_id TEXT NOT NULL DEFAULT '',
	methods    TEXT NOT NULL DEFAULT '',
	issued_at  BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT
);
CREATE UNIQUE INDEX tokens_hash ON tokens (token_hash);
CREATE INDEX tokens_expiry ON tokens (expires_at);
CREATE INDEX tokens_user ON tokens (user_id);
