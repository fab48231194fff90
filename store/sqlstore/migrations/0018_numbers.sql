-- Numeric ids. An admin API that names its records by small integers (the ops
-- face's users, roles and hosts, its applications, product lines, navigators and
-- keys) reads them from a number column, unique per table and never reused,
-- given at creation from one counter per kind (record_numbers: kind, the last
-- number given). The SQL runs unchanged on SQLite and PostgreSQL. Existing rows
-- are numbered here in creation order. 0 is no number (none is given 0).
CREATE TABLE record_numbers (
	kind TEXT PRIMARY KEY,
	last BIGINT NOT NULL
);

ALTER TABLE users ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
UPDATE users SET number = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM users) r WHERE r.id = users.id);
INSERT INTO record_numbers (kind, last) SELECT 'user', COUNT(*) FROM users;
CREATE UNIQUE INDEX users_number ON users (number) WHERE number > 0;

ALTER TABLE user_groups ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
UPDATE user_groups SET number = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM user_groups) r WHERE r.id = user_groups.id);
INSERT INTO record_numbers (kind, last) SELECT 'group', COUNT(*) FROM user_groups;
CREATE UNIQUE INDEX user_groups_number ON user_groups (number) WHERE number > 0;

ALTER TABLE servers ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
UPDATE servers SET number = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM servers) r WHERE r.id = servers.id);
INSERT INTO record_numbers (kind, last) SELECT 'server', COUNT(*) FROM servers;
CREATE UNIQUE INDEX servers_number ON servers (number) WHERE number > 0;

-- Who made a group (a role, in the ops face's words): a user's name, '' for the system.
ALTER TABLE user_groups ADD COLUMN creator TEXT NOT NULL DEFAULT '';
-- A user's phone number.
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
