-- Servers as a CMDB's hosts: what kind of machine each is (a label: a cloud's
-- instance type, bare metal), where it is in its life as a host (raw, inited,
-- attached, offline), what its operating system, CPUs and memory are, a
-- description, and its addresses (a JSON array of {address, kind, network,
-- netmask, virtual}). Same conventions as 0001. Existing servers are raw.
ALTER TABLE servers ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE servers ADD COLUMN stage TEXT NOT NULL DEFAULT 'raw';
ALTER TABLE servers ADD COLUMN os_type TEXT NOT NULL DEFAULT '';
ALTER TABLE servers ADD COLUMN cpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN memory_mb BIGINT NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE servers ADD COLUMN addresses TEXT NOT NULL DEFAULT '[]';
CREATE INDEX servers_name ON servers (name);
