-- Links to outside tools (core/links): a name, an image and a URL, shown to
-- the users of an admin API, numbered as 0018 numbers records (kind 'link').
-- Same conventions as 0001: TEXT ids, BIGINT microsecond times. The SQL runs
-- unchanged on SQLite and PostgreSQL.
CREATE TABLE links (
	id         TEXT PRIMARY KEY,
	number     BIGINT NOT NULL DEFAULT 0,
	name       TEXT NOT NULL,
	image      TEXT NOT NULL,
	url        TEXT NOT NULL,
	creator    TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX links_name ON links (name);
CREATE UNIQUE INDEX links_number ON links (number) WHERE number > 0;
CREATE INDEX links_order ON links (created_at, id);

-- The audit log filtered by action (any of several) reads the events of those
-- actions in their order, rather than every event.
CREATE INDEX audit_events_action ON audit_events (action, at, id);
