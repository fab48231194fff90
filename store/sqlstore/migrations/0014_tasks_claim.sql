-- Claiming (sqlstore/tasks.go) reads each claimable status on its own, in the
-- order of an index, and stops at its limit however long the backlog:
--
-- tasks_claim (status, run_at, id) gives the PENDING and the RETRY tasks that
-- are due (and serves the lists by status). With tasks_runnable (run_at, id) of
-- both statuses together the planner read every waiting task and sorted them
-- (SQLite chose tasks_status and sorted all of them; PostgreSQL combined two
-- indexes and sorted), so that a claim cost grew with the backlog.
--
-- tasks_lease_expiry (status, lease_until) of the STARTED gives the orphans,
-- those whose lease ran out: only expired leases are read, not the running
-- tasks (SQLite chose tasks_claim by status over the lease alone and read every
-- running task), nor, on PostgreSQL, the entries of every task that was STARTED
-- and has finished since, which stay in an index until vacuum.
DROP INDEX tasks_runnable;
DROP INDEX tasks_status;
DROP INDEX tasks_leased;
CREATE INDEX tasks_claim ON tasks (status, run_at, id);
CREATE INDEX tasks_lease_expiry ON tasks (status, lease_until) WHERE status = 'STARTED';
