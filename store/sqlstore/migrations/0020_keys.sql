-- API keys (core.TokenKey): long-lived named tokens a user makes for its
-- scripts. A key is a row of tokens with a number (from the 'token' counter of
-- record_numbers; 0 for the tokens that are not keys), a name, a description
-- and a hint (the first characters of its secret, to show it masked; the
-- secret itself is kept only as its SHA-256, as every token's). Keys are
-- listed by user, newest or oldest first. A forgotten password is looked up
-- by e-mail address in any case. The SQL runs unchanged on SQLite and
-- PostgreSQL.
ALTER TABLE tokens ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN hint TEXT NOT NULL DEFAULT '';
INSERT INTO record_numbers (kind, last) VALUES ('token', 0) ON CONFLICT (kind) DO NOTHING;
CREATE UNIQUE INDEX tokens_number ON tokens (number) WHERE number > 0;
CREATE INDEX tokens_kind_user ON tokens (kind, user_id, issued_at, id);
CREATE INDEX tokens_kind_order ON tokens (kind, issued_at, id);

CREATE INDEX users_email ON users (lower(email));
