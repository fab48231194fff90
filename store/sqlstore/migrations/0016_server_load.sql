-- What each server holds, kept as rows change (load.go): placement reads it
-- instead of counting every client and machine on each new one.
CREATE TABLE server_load (
	server_id TEXT PRIMARY KEY,
	clients   BIGINT NOT NULL DEFAULT 0,
	machines  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO server_load (server_id)
	SELECT server_id FROM clients WHERE status <> 'deleted' AND server_id <> ''
	UNION SELECT server_id FROM instances WHERE project_id <> '' AND state <> 'deleted' AND server_id <> '';
UPDATE server_load SET
	clients = (SELECT count(*) FROM clients c WHERE c.server_id = server_load.server_id AND c.status <> 'deleted'),
	machines = (SELECT count(*) FROM instances i WHERE i.server_id = server_load.server_id AND i.project_id <> '' AND i.state <> 'deleted');
