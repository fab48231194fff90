-- Applications and product lines (core/apps). Same conventions as 0001: TEXT
-- ids, BIGINT microsecond times, JSON as TEXT; the SQL runs unchanged on
-- SQLite and PostgreSQL. Numbers as in 0018.
--
-- Applications form a tree (parent_id); full_name is the dotted path of names
-- from the root, unique (names hold no dots), so that a sibling of the same
-- name conflicts and a path is found in one index. An application with
-- children, or required by another, is not deleted (the store's callers
-- refuse it; the foreign keys hold it). A product line with applications is
-- not deleted either. Dependency links and persons go with their application,
-- persons with their user.
CREATE TABLE product_lines (
	id          TEXT PRIMARY KEY,
	number      BIGINT NOT NULL DEFAULT 0,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	creator     TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX product_lines_number ON product_lines (number) WHERE number > 0;
CREATE INDEX product_lines_order ON product_lines (created_at, id);

CREATE TABLE applications (
	id              TEXT PRIMARY KEY,
	number          BIGINT NOT NULL DEFAULT 0,
	name            TEXT NOT NULL,
	full_name       TEXT NOT NULL,
	parent_id       TEXT REFERENCES applications (id),
	product_line_id TEXT REFERENCES product_lines (id),
	description     TEXT NOT NULL DEFAULT '',
	app_type        TEXT,
	run_user        TEXT NOT NULL DEFAULT '',
	directory       TEXT NOT NULL DEFAULT '',
	startup_cmd     TEXT NOT NULL DEFAULT '',
	stop_cmd        TEXT NOT NULL DEFAULT '',
	stdout_path     TEXT NOT NULL DEFAULT '',
	stderr_path     TEXT NOT NULL DEFAULT '',
	pid_path        TEXT NOT NULL DEFAULT '',
	creator         TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX applications_number ON applications (number) WHERE number > 0;
CREATE UNIQUE INDEX applications_full_name ON applications (full_name);
CREATE INDEX applications_order ON applications (created_at, id);
CREATE INDEX applications_name ON applications (name, id);
CREATE INDEX applications_parent ON applications (parent_id);
CREATE INDEX applications_product_line ON applications (product_line_id);

CREATE TABLE app_requires (
	app_id      TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	required_id TEXT NOT NULL REFERENCES applications (id),
	PRIMARY KEY (app_id, required_id)
);
CREATE INDEX app_requires_required ON app_requires (required_id);

CREATE TABLE app_persons (
	app_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	type    TEXT NOT NULL,
	PRIMARY KEY (app_id, user_id, type)
);
CREATE INDEX app_persons_user ON app_persons (user_id);
