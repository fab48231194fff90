-- Audit events are numbered (core/numbers.go), for the admin APIs that list
-- them by number. Existing events are numbered here in the order they
-- happened. New numbers come from the counter 'audit' of record_numbers in
-- blocks (or, where one process owns the database, from the largest number
-- there is): see store/sqlstore/audit.go.
ALTER TABLE audit_events ADD COLUMN number BIGINT NOT NULL DEFAULT 0;
UPDATE audit_events SET number = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY at, id) AS n FROM audit_events) r WHERE r.id = audit_events.id);
INSERT INTO record_numbers (kind, last) SELECT 'audit', COUNT(*) FROM audit_events;
CREATE UNIQUE INDEX audit_events_number ON audit_events (number) WHERE number > 0;
