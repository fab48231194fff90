-- One session mechanism (core/tokens.go): every session is a row of tokens, of a
-- kind ('api': an API token; 'panel': a hosting panel's session, the billmgr
-- face's auth=) with its lifetimes: expires_at, the absolute end, and
-- idle_timeout (microseconds; 0: none), the end after last_used_at. Same
-- conventions as 0001: TEXT ids, BIGINT microsecond times. The SQL runs unchanged
-- on SQLite and PostgreSQL.
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN idle_timeout BIGINT NOT NULL DEFAULT 0;
UPDATE tokens SET last_used_at = issued_at;

-- The panel sessions of 0008 become tokens of kind 'panel': 12 hours at most
-- from their creation, an hour after their last use (core.PanelSessionMax,
-- core.PanelSessionIdle). A session's id is made of its hash, in the form of a
-- UUID as the other ids.
INSERT INTO tokens (id, token_hash, kind, user_id, project_id, methods, issued_at, expires_at, last_used_at, idle_timeout)
	SELECT substr(id_hash, 1, 8) || '-' || substr(id_hash, 9, 4) || '-' || substr(id_hash, 13, 4) || '-' ||
			substr(id_hash, 17, 4) || '-' || substr(id_hash, 21, 12),
		id_hash, 'panel', user_id, '', 'password', created_at, created_at + 43200000000, last_used_at, 3600000000
	FROM billmgr_sessions;
DROP TABLE billmgr_sessions;
