-- The storage satellite's records (spec 003). Same conventions as 0001: TEXT
-- ids, BIGINT microsecond times. A satellite user is a users row plus its
-- profile; a satellite project is a projects row of project_type 'satellite'.
-- Limits and monthly usage may belong to any project (TRS pools too).

CREATE TABLE user_profiles (
	user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	full_name     TEXT NOT NULL DEFAULT '',
	short_name    TEXT NOT NULL DEFAULT '',
	project_limit INTEGER NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

CREATE INDEX projects_owner ON projects (owner_id, created_at, id);

CREATE TABLE coupons (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL,
	duration    INTEGER NOT NULL,
	amount      BIGINT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	coupon_type INTEGER NOT NULL DEFAULT 0,
	status      INTEGER NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL
);
CREATE INDEX coupons_user ON coupons (user_id, created_at, id);

CREATE TABLE project_limits (
	project_id TEXT PRIMARY KEY,
	usage_bytes     BIGINT NOT NULL DEFAULT 0,
	bandwidth_bytes BIGINT NOT NULL DEFAULT 0,
	rate_rps        INTEGER NOT NULL DEFAULT 0,
	buckets         INTEGER NOT NULL DEFAULT 0,
	updated_at      BIGINT NOT NULL
);

-- One row per project and month (YYYY-MM): stored bytes as last measured,
-- egress bytes summed over the month.
CREATE TABLE project_usage (
	project_id   TEXT NOT NULL,
	month        TEXT NOT NULL,
	stored_bytes BIGINT NOT NULL DEFAULT 0,
	egress_bytes BIGINT NOT NULL DEFAULT 0,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (project_id, month)
);
CREATE INDEX project_usage_month ON project_usage (month);

-- The runtime's egress counter last read per instance, so that each
-- measurement adds only what was sent since.
CREATE TABLE instance_egress (
	instance_id TEXT PRIMARY KEY,
	tx_bytes    BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
