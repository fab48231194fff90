-- TRS machines' assignments to users and groups, and their history. A TRS machine
-- is an instance whose project_id names a TRS project. Same conventions as 0001:
-- TEXT ids, BIGINT microsecond times.
--
-- Current assignments go with their machine, user or group (ON DELETE CASCADE);
-- the history keeps plain ids so that it outlives all three.

CREATE TABLE machine_users (
	machine_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	assigned_at BIGINT NOT NULL,
	PRIMARY KEY (machine_id, user_id)
);
CREATE INDEX machine_users_user ON machine_users (user_id);

CREATE TABLE machine_groups (
	machine_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
	group_id    TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	assigned_at BIGINT NOT NULL,
	PRIMARY KEY (machine_id, group_id)
);
CREATE INDEX machine_groups_group ON machine_groups (group_id);

CREATE TABLE machine_assignment_history (
	id           TEXT PRIMARY KEY,
	machine_id   TEXT NOT NULL,
	subject_type TEXT NOT NULL,
	subject_id   TEXT NOT NULL,
	action       TEXT NOT NULL,
	actor        TEXT NOT NULL DEFAULT '',
	changed_at   BIGINT NOT NULL
);
CREATE INDEX machine_assignment_history_machine ON machine_assignment_history (machine_id, changed_at, id);
CREATE INDEX machine_assignment_history_subject ON machine_assignment_history (subject_id, changed_at);

-- Machines are listed by project and state.
CREATE INDEX instances_project_state ON instances (project_id, state);
