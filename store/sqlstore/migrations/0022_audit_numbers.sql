-- Audit events are numbered (core/numbers.go), for the admin APIs that list
-- them by number. Existing events are numbered here in the order they
-- happened; new ones as they are written (store/sqlstore/audit.go): from a
-- sequence on PostgreSQL (0023_audit_numbers.postgres.sql), which no
-- transaction waits on, and where one process owns the database from the
-- largest number there is.
ALTER TABLE audit_events ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
UPDATE audit_events SET number = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY at, id) AS n FROM audit_events) r WHERE r.id = audit_events.id);
CREATE UNIQUE INDEX audit_events_number ON audit_events (number) WHERE number > 0;
