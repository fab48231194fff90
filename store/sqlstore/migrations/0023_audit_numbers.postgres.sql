-- The sequence audit events take their numbers from on PostgreSQL (after 0022):
-- nextval is never rolled back and never waits for another transaction.
CREATE SEQUENCE audit_numbers;
SELECT setval('audit_numbers', COALESCE(MAX(number), 0) + 1, false) FROM audit_events;
