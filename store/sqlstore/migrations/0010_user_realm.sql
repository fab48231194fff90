-- users.realm names whose admin API manages an account: 'hostdeck' for hostdeck's
-- own identity (its administrators and the users its identity API makes),
-- 'satellite' for the storage satellite's customer accounts. A face's credential
-- reaches only the accounts of its realm (core/access.go). Existing satellite
-- accounts are the users that have a satellite profile.
ALTER TABLE users ADD COLUMN realm TEXT NOT NULL DEFAULT 'hostdeck';
UPDATE users SET realm = 'satellite' WHERE id IN (SELECT user_id FROM user_profiles);
CREATE INDEX users_realm ON users (realm, created_at, id);
