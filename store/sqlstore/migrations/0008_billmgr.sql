-- The billmgr face (spec 004): numeric instance ids (elid) and panel sessions.
-- Same conventions as 0001: TEXT ids, BIGINT microsecond times. The SQL runs unchanged on SQLite and PostgreSQL.
--
-- Every instance gets a numeric elid, unique and never reused. Numbers come from a
-- one-row counter (as volume_assignment_seq in 0005) rather than SERIAL or
-- AUTOINCREMENT so that the same SQL runs on both databases. Existing instances are
-- numbered here in creation order; later ones as they are created (CreateInstance).
CREATE TABLE instance_elid_seq (
	id      INTEGER PRIMARY KEY,
	last_id BIGINT NOT NULL
);

CREATE TABLE instance_elids (
	elid        BIGINT PRIMARY KEY,
	instance_id TEXT NOT NULL UNIQUE
);

INSERT INTO instance_elids (elid, instance_id)
	SELECT ROW_NUMBER() OVER (ORDER BY created_at, id), id FROM instances;
INSERT INTO instance_elid_seq (id, last_id) SELECT 1, COUNT(*) FROM instances;

-- Sessions of func=auth. The id is stored as its SHA-256 (hex); a session expires
-- after an hour without use (last_used_at is updated on every use).
CREATE TABLE billmgr_sessions (
	id_hash      TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL
);
CREATE INDEX billmgr_sessions_last_used ON billmgr_sessions (last_used_at);

-- The document's public rescue images are seeded at start by core
-- (Service.SeedRescueImages), not here: ids and names are in core/billmgr.go.
