-- Lists that follow their data's changes (store/sqlstore/changes.go, core/list.go).
-- Same conventions as 0001. The SQL runs unchanged on SQLite and PostgreSQL.
--
-- table_changes counts the committed changes of each followed table: every
-- transaction that writes one adds 1 to one of its rows, before it commits, so
-- the sum of a table's rows moves with every change and a stamp read on any
-- replica sees it. A table has a row per shard (PostgreSQL: a few, so that
-- concurrent writers of one table seldom wait on one row; SQLite: one).
CREATE TABLE table_changes (
	table_name TEXT NOT NULL,
	shard      INTEGER NOT NULL,
	n          BIGINT NOT NULL,
	PRIMARY KEY (table_name, shard)
);

-- The pages of billmgr's list of instances (those not deleted, in creation
-- order) are found in an index that holds every column they are found by,
-- state included, as clients_live_order does for clients.
CREATE INDEX instances_live_order ON instances (created_at, id, state) WHERE state <> 'deleted';
