-- Recording a session closes the user's open sessions on the machine first; with
-- only (user_id, instance_id, created_at) that update read every session the user
-- ever had there. Open sessions are few: index only those.
CREATE INDEX sessions_open ON sessions (user_id, instance_id) WHERE closed_at IS NULL;
