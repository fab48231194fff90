-- Sessions, floating IPs and volume assignments of the TRS face. Same conventions
-- as 0001: TEXT ids, BIGINT microsecond times. Depends on 0001 (users) only.
--
-- Sessions keep copies of the user's and machine's names and the project, and no
-- foreign keys: the history outlives the users and machines it names.

CREATE TABLE sessions (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL,
	user_name     TEXT NOT NULL DEFAULT '',
	instance_id   TEXT NOT NULL,
	instance_name TEXT NOT NULL DEFAULT '',
	project_id    TEXT NOT NULL DEFAULT '',
	conn_type     TEXT NOT NULL DEFAULT '',
	client_ip     TEXT NOT NULL DEFAULT '',
	client_os     TEXT NOT NULL DEFAULT '',
	client_info   TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	closed_at     BIGINT
);
CREATE INDEX sessions_order ON sessions (created_at, id);
CREATE INDEX sessions_user_instance ON sessions (user_id, instance_id, created_at);
CREATE INDEX sessions_instance ON sessions (instance_id);

-- One floating IP per user; ids and addresses are unique. Released with the user.
CREATE TABLE floating_ips (
	user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	id         TEXT NOT NULL UNIQUE,
	address    TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX floating_ips_order ON floating_ips (created_at, id);

-- Volume assignments are numbered as the document shows them (integers). The
-- number comes from a one-row counter rather than SERIAL/AUTOINCREMENT so that the
-- same SQL runs on SQLite and PostgreSQL; numbers are never reused.
CREATE TABLE volume_assignment_seq (
	id   INTEGER PRIMARY KEY,
	last_id BIGINT NOT NULL
);
INSERT INTO volume_assignment_seq (id, last_id) VALUES (1, 0);

CREATE TABLE volume_assignments (
	id         BIGINT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	volume_id  TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (project_id, volume_id)
);
CREATE INDEX volume_assignments_user ON volume_assignments (user_id);
CREATE INDEX volume_assignments_volume ON volume_assignments (volume_id);
