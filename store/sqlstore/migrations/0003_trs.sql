-- TRS projects and the catalogue they draw on. Same conventions as 0001: TEXT ids,
-- BIGINT microsecond times, JSON as TEXT.
--
-- A TRS project is a row of projects (name, description, and now domain, enabled
-- and type) plus one row of trs_projects with its pool settings in typed columns.
-- Names are unique within a domain among TRS projects; other kinds of project keep
-- their own rules.

ALTER TABLE projects ADD COLUMN domain_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE projects ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE projects ADD COLUMN project_type TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX projects_trs_domain_name ON projects (domain_id, name) WHERE project_type = 'TRS';
CREATE INDEX projects_order ON projects (created_at, id);

CREATE TABLE flavors (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	vcpus      INTEGER NOT NULL,
	ram_mib    INTEGER NOT NULL,
	disk_gib   INTEGER NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX flavors_order ON flavors (created_at, id);

CREATE TABLE trs_projects (
	project_id            TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
	parent_id             TEXT NOT NULL DEFAULT '',
	is_domain             BOOLEAN NOT NULL DEFAULT FALSE,
	tags                  TEXT NOT NULL DEFAULT '[]',
	flavor_id             TEXT NOT NULL,
	image_id              TEXT NOT NULL,
	operation_mode        INTEGER NOT NULL,
	network_id            TEXT NOT NULL DEFAULT '',
	availability_zone     TEXT NOT NULL DEFAULT '',
	instance_init_script  TEXT NOT NULL DEFAULT '',
	min_reserve_vm        INTEGER NOT NULL DEFAULT 0,
	instance_name_pattern TEXT NOT NULL,
	user_volume_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
	volume_size           INTEGER NOT NULL DEFAULT 0,
	volume_type_id        TEXT NOT NULL DEFAULT '',
	max_instances         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX trs_projects_flavor ON trs_projects (flavor_id);
CREATE INDEX trs_projects_image ON trs_projects (image_id);

-- The defaults hostdeck ships; admins add more. Fixed ids so that configuration and
-- scripts can name them.
INSERT INTO flavors (id, name, vcpus, ram_mib, disk_gib, created_at) VALUES
	('0a7e5c1d-7f3b-4c2a-9d10-000000000001', 'trs.small', 1, 2048, 20, 0),
	('0a7e5c1d-7f3b-4c2a-9d10-000000000002', 'trs.medium', 2, 4096, 40, 1),
	('0a7e5c1d-7f3b-4c2a-9d10-000000000003', 'trs.large', 4, 8192, 80, 2);

INSERT INTO images (id, name, ref, zone, owner_id, os_type, created_at) VALUES
	('1b8f6d2e-8a4c-4d3b-8e21-000000000001', 'hostdeck sample desktop', 'hostdeck/sample-client:latest', 'pub', '', 'linux', 0),
	('1b8f6d2e-8a4c-4d3b-8e21-000000000002', 'Ubuntu 24.04 desktop', 'ubuntu:24.04', 'pub', '', 'linux', 1),
	('1b8f6d2e-8a4c-4d3b-8e21-000000000003', 'Windows 11 desktop', 'hostdeck/windows-11-desktop:latest', 'pub', '', 'windows', 2);
