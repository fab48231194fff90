-- Every instance's insert and change of state kept instances_project in step,
-- though instances_project_state (0004) begins with the same column and serves
-- every lookup by project: one index fewer to write.
DROP INDEX instances_project;
