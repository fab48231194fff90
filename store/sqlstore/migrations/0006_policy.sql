-- Password policy, TOTP credentials and the Web Guard of TRS projects. Same
-- conventions as 0001: TEXT ids, BIGINT microsecond times, JSON as TEXT.
--
-- users.password_changed_at is when the password was last set (existing users
-- count from their last update); grace_logins_used counts the logins made with
-- an expired password since. Both are reset by every password change.

ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN grace_logins_used INTEGER NOT NULL DEFAULT 0;
UPDATE users SET password_changed_at = updated_at;

-- Keystone-style credentials. blob is sealed with the service's AES-GCM box
-- (base64 of the sealed bytes), never stored in clear and never hashed: a TOTP
-- check needs the secret. last_step is the last accepted TOTP time step, so a
-- passcode is accepted once.
CREATE TABLE credentials (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	type       TEXT NOT NULL,
	blob       TEXT NOT NULL,
	last_step  BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX credentials_user ON credentials (user_id, created_at, id);
CREATE INDEX credentials_order ON credentials (created_at, id);

-- Web Guard: the client networks a TRS project's broker clients may come from
-- (a JSON list of CIDRs; empty: any).
ALTER TABLE trs_projects ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '[]';
