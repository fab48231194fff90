-- hostdeck's initial schema. One text serves SQLite and PostgreSQL: ids are TEXT
-- (UUIDv7), times are BIGINT microseconds since the Unix epoch in UTC (they sort
-- and compare the same on both), JSON is TEXT (kept byte for byte), secrets BYTEA
-- (SQLite stores the blob as is).

CREATE TABLE servers (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	address      TEXT NOT NULL DEFAULT '',
	runtime      TEXT NOT NULL DEFAULT '',
	capacity     INTEGER NOT NULL DEFAULT 0,
	location     TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL,
	last_seen_at BIGINT,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX servers_order ON servers (created_at, id);

CREATE TABLE images (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	ref        TEXT NOT NULL DEFAULT '',
	zone       TEXT NOT NULL DEFAULT '',
	owner_id   TEXT NOT NULL DEFAULT '',
	os_type    TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);
CREATE INDEX images_order ON images (created_at, id);

CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	owner_id    TEXT NOT NULL DEFAULT '',
	settings    TEXT,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	email         TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

CREATE TABLE instances (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	server_id   TEXT NOT NULL DEFAULT '',
	project_id  TEXT NOT NULL DEFAULT '',
	image_id    TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,
	runtime_ref TEXT NOT NULL DEFAULT '',
	address     TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	spec        TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX instances_order ON instances (created_at, id);
CREATE INDEX instances_server ON instances (server_id);
CREATE INDEX instances_project ON instances (project_id);

CREATE TABLE clients (
	id                 TEXT PRIMARY KEY,
	name               TEXT NOT NULL,
	email              TEXT NOT NULL DEFAULT '',
	phone              TEXT NOT NULL DEFAULT '',
	lang               TEXT NOT NULL DEFAULT '',
	server_id          TEXT NOT NULL DEFAULT '',
	instance_id        TEXT NOT NULL DEFAULT '',
	status             TEXT NOT NULL,
	expire_date        BIGINT,
	demo               BOOLEAN NOT NULL DEFAULT FALSE,
	url                TEXT NOT NULL DEFAULT '',
	owner_login        TEXT NOT NULL DEFAULT '',
	owner_password_enc BYTEA,
	expire_notice_for  BIGINT,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL
);
-- Lists leave deleted clients out by default: the partial index serves that order
-- and, holding status, lets a deep OFFSET step over index entries only.
CREATE INDEX clients_live_order ON clients (created_at, id, status) WHERE status <> 'deleted';
-- A name is unique among clients that are not deleted: a deleted client's name can be used again.
CREATE UNIQUE INDEX clients_live_name ON clients (name) WHERE status <> 'deleted';
CREATE INDEX clients_status_order ON clients (status, created_at, id);
CREATE INDEX clients_live_server ON clients (server_id, created_at, id, status) WHERE status <> 'deleted';
CREATE INDEX clients_expire ON clients (expire_date) WHERE expire_date IS NOT NULL;

CREATE TABLE expire_changes (
	id        TEXT PRIMARY KEY,
	client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	old_date  BIGINT,
	new_date  BIGINT,
	actor     TEXT NOT NULL DEFAULT '',
	source    TEXT NOT NULL DEFAULT '',
	at        BIGINT NOT NULL
);
CREATE INDEX expire_changes_client ON expire_changes (client_id, at, id);

CREATE TABLE tasks (
	id               TEXT PRIMARY KEY,
	kind             TEXT NOT NULL,
	status           TEXT NOT NULL,
	progress         INTEGER NOT NULL DEFAULT 0,
	message          TEXT NOT NULL DEFAULT '',
	payload          TEXT,
	result           TEXT,
	error            TEXT NOT NULL DEFAULT '',
	attempts         INTEGER NOT NULL DEFAULT 0,
	max_attempts     INTEGER NOT NULL DEFAULT 0,
	run_at           BIGINT NOT NULL,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_until      BIGINT,
	creator          TEXT NOT NULL DEFAULT '',
	target_type      TEXT NOT NULL DEFAULT '',
	target_id        TEXT NOT NULL DEFAULT '',
	task_key         TEXT UNIQUE,
	cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	started_at       BIGINT,
	finished_at      BIGINT
);
CREATE INDEX tasks_order ON tasks (created_at, id);
-- Claiming scans only the tasks that are waiting or running.
CREATE INDEX tasks_runnable ON tasks (run_at, id) WHERE status IN ('PENDING', 'RETRY');
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE status = 'STARTED';
CREATE INDEX tasks_target ON tasks (target_type, target_id);
CREATE INDEX tasks_status ON tasks (status);

CREATE TABLE audit_events (
	id          TEXT PRIMARY KEY,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL DEFAULT '',
	face        TEXT NOT NULL DEFAULT '',
	source      TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL DEFAULT '',
	target_type TEXT NOT NULL DEFAULT '',
	target_id   TEXT NOT NULL DEFAULT '',
	detail      TEXT
);
CREATE INDEX audit_events_order ON audit_events (at, id);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id);
CREATE INDEX audit_events_actor ON audit_events (actor);
