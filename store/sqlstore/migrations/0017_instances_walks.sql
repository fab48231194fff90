-- Walks in creation order that stop early instead of sorting all they find.
--
-- A pool's free machine is looked for in the order it is handed out (oldest
-- first): with the order in the index the search stops at the first free one,
-- instead of checking every machine of the pool and sorting them.
CREATE INDEX instances_project_state_order ON instances (project_id, state, created_at, id);
DROP INDEX instances_project_state;

-- Reconciliation and the usage measurement walk a server's records 500 at a
-- time in creation order: each batch starts in the index where the last ended,
-- instead of sorting every record of the server again.
CREATE INDEX instances_server_order ON instances (server_id, created_at, id);
DROP INDEX instances_server;
