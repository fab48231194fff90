package fleet

import (
	"context"
	"hostdeck/core"
	"maps"
	"net"
	"slices"
	"strings"
	"time"
)

// DefaultCapacity is the capacity of a server created without one.
const DefaultCapacity = 100

// ServerInput is what a caller may set on a server; nil fields are not given.
type ServerInput struct {
	Name     *string
	Address  *string
	Runtime  *string
	Capacity *int
	Location *string
	Status   *core.ServerStatus
	// The host's record (a CMDB's; init fills OSType, CPUs and MemoryMB in
	// from the machine itself).
	Kind        *string
	OSType      *string
	CPUs        *int
	MemoryMB    *int64
	Description *string
	Addresses   *[]core.HostAddress
}

// maxAddresses bounds a host's addresses.
const maxAddresses = 64

func (s *Service) checkServerInput(in ServerInput, create bool) error {
	if create && (in.Name == nil || strings.TrimSpace(*in.Name) == "") {
		return core.Invalid("name", "name is required")
	}
	if in.Name != nil {
		if err := core.CheckName("name", strings.TrimSpace(*in.Name), core.MaxNameLen); err != nil {
			return err
		}
	}
	if err := core.CheckOptional(in.Address, func(v string) error { return core.CheckLine("address", v, core.MaxRefLen) }); err != nil {
		return err
	}
	if err := core.CheckOptional(in.Location, func(v string) error { return core.CheckLine("location", v, core.MaxNameLen) }); err != nil {
		return err
	}
	if in.Runtime != nil {
		if _, ok := s.Runtimes[*in.Runtime]; !ok {
			return core.Invalid("runtime", "unknown runtime %q", *in.Runtime)
		}
	}
	if in.Capacity != nil && (*in.Capacity < 1 || *in.Capacity > 1_000_000) {
		return core.Invalid("capacity", "capacity must be between 1 and 1000000")
	}
	if in.Status != nil && *in.Status != core.ServerActive && *in.Status != core.ServerDisabled {
		return core.Invalid("status", "status must be %q or %q", core.ServerActive, core.ServerDisabled)
	}
	for _, c := range []struct {
		field string
		v     *string
		max   int
	}{{"kind", in.Kind, core.MaxNameLen}, {"os_type", in.OSType, core.MaxNameLen}, {"description", in.Description, core.MaxTextLen}} {
		if err := core.CheckOptional(c.v, func(v string) error { return core.CheckLine(c.field, v, c.max) }); err != nil {
			return err
		}
	}
	if in.CPUs != nil && (*in.CPUs < 0 || *in.CPUs > 1<<20) {
		return core.Invalid("cpus", "cpus must be between 0 and %d", 1<<20)
	}
	if in.MemoryMB != nil && (*in.MemoryMB < 0 || *in.MemoryMB > 1<<40) {
		return core.Invalid("memory_mb", "memory must be between 0 and %d MB", int64(1)<<40)
	}
	if in.Addresses != nil {
		if len(*in.Addresses) > maxAddresses {
			return core.Invalid("addresses", "a host has at most %d addresses", maxAddresses)
		}
		for _, a := range *in.Addresses {
			if net.ParseIP(a.Address) == nil {
				return core.Invalid("addresses", "%q is not an IP address", a.Address)
			}
			for _, v := range []struct{ field, v string }{{"network", a.Network}, {"netmask", a.Netmask}} {
				if v.v != "" && net.ParseIP(v.v) == nil {
					return core.Invalid("addresses", "%s %q is not an IP address", v.field, v.v)
				}
			}
		}
	}
	return nil
}

// hostFields sets srv's host record from in.
func hostFields(srv *core.Server, in ServerInput) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&srv.Kind, in.Kind)
	set(&srv.OSType, in.OSType)
	set(&srv.Description, in.Description)
	if in.CPUs != nil {
		srv.CPUs = *in.CPUs
	}
	if in.MemoryMB != nil {
		srv.MemoryMB = *in.MemoryMB
	}
	if in.Addresses != nil {
		srv.Addresses = *in.Addresses
	}
}

// CreateServer records a server of the fleet.
func (s *Service) CreateServer(ctx context.Context, in ServerInput) (*core.Server, error) {
	if err := s.Check(ctx, core.ActionServerCreate, core.Resource{Type: core.ResourceServer}); err != nil {
		return nil, err
	}
	if err := s.checkServerInput(in, true); err != nil {
		return nil, err
	}
	srv := &core.Server{
		ID: core.NewID(), Name: strings.TrimSpace(*in.Name), Runtime: s.Cfg.DefaultRuntime,
		Capacity: DefaultCapacity, Status: core.ServerActive,
	}
	if in.Address != nil {
		srv.Address = *in.Address
	}
	if in.Runtime != nil {
		srv.Runtime = *in.Runtime
	}
	if in.Capacity != nil {
		srv.Capacity = *in.Capacity
	}
	if in.Location != nil {
		srv.Location = *in.Location
	}
	if in.Status != nil {
		srv.Status = *in.Status
	}
	hostFields(srv, in)
	if err := s.addServer(ctx, srv, "server.create"); err != nil {
		return nil, err
	}
	return srv, nil
}

// addServer stores srv and audits it as action, in one transaction.
func (s *Service) addServer(ctx context.Context, srv *core.Server, action string) error {
	return core.InTx(ctx, s.store, func(q Queries) error {
		if err := q.CreateServer(ctx, srv); err != nil {
			return err
		}
		return s.Audit(ctx, q, action, "server", srv.ID, srv)
	})
}

// LocalServer is the name of the server EnsureLocalServer registers: the machine
// hostdeck runs on, on the configured runtime.
const LocalServer = "local"

// auditLocalServer is the audit action of the local server's creation. The
// Audit trail is never pruned, so it remembers for good that the server was
// registered, even once an operator has renamed or deleted it.
const auditLocalServer = "server.create_local"

// EnsureLocalServer registers this machine as server LocalServer on the
// default runtime (Config.DefaultRuntime), with DefaultCapacity, the first time
// hostdeck starts, so that a fresh install can place clients and machines
// without a server being added first. It does nothing when it registered one
// before (whatever became of it: an operator who deleted it keeps it deleted)
// or when the fleet has a server already (an upgraded install, or an
// operator's own server named local); a replica that loses the race to create
// it finds the name taken and takes that as done. It returns the server it
// created, or nil.
func (s *Service) EnsureLocalServer(ctx context.Context) (*core.Server, error) {
	if err := s.Check(ctx, core.ActionServerCreate, core.Resource{Type: core.ResourceServer}); err != nil {
		return nil, err
	}
	server, action := "server", auditLocalServer
	done, _, err := s.store.ListAudit(ctx, core.AuditFilter{TargetType: &server, Action: &action, Page: core.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(done) > 0 {
		return nil, nil
	}
	// An install that has servers already is not a fresh one but an upgraded
	// one: no server its operator did not choose joins its placement.
	if _, n, err := s.store.ListServers(ctx, core.ServerFilter{Page: core.Page{Limit: 1}}); err != nil || n > 0 {
		return nil, err
	}
	srv := &core.Server{ID: core.NewID(), Name: LocalServer, Runtime: s.Cfg.DefaultRuntime, Capacity: DefaultCapacity, Status: core.ServerActive}
	err = s.addServer(ctx, srv, auditLocalServer)
	if core.ErrorKind(err) == core.KindConflict { // a server of that name is there already
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// GetServer returns one server.
func (s *Service) GetServer(ctx context.Context, id string) (*core.Server, error) {
	if err := s.Check(ctx, core.ActionServerView, core.On(core.ResourceServer, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("server", id)
	}
	return s.store.GetServer(ctx, id)
}

// ListServers lists the fleet's servers (for whoever may see every one). A
// Status or Runtime that no server can have is KindInvalid naming the values
// there are.
func (s *Service) ListServers(ctx context.Context, f core.ServerFilter) ([]*core.Server, int, error) {
	if err := s.Check(ctx, core.ActionServerView, core.Resource{Type: core.ResourceServer}); err != nil {
		return nil, 0, err
	}
	return s.listServers(ctx, f)
}

// ListVisibleServers lists the servers the actor may see: every one for
// whoever holds server.view on all, those it holds server.view on by a grant
// for a member (one filter of the store), none for an anonymous actor.
func (s *Service) ListVisibleServers(ctx context.Context, f core.ServerFilter) ([]*core.Server, int, error) {
	perms, err := s.Permissions(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.VisibleTo = nil
	if !perms.Can(core.ActionServerView, core.Resource{Type: core.ResourceServer}) {
		a := core.ActorFrom(ctx)
		if a.UserID == "" {
			return []*core.Server{}, 0, nil
		}
		f.VisibleTo = &a.UserID
	}
	return s.listServers(ctx, f)
}

// listServers checks f and lists the servers it selects.
func (s *Service) listServers(ctx context.Context, f core.ServerFilter) ([]*core.Server, int, error) {
	if err := f.Check(slices.Sorted(maps.Keys(s.Runtimes))); err != nil {
		return nil, 0, err
	}
	return s.store.ListServers(ctx, f)
}

// Running reports whether srv answered its runtime lately: its last
// successful probe is no older than two reconciliation passes (which probe
// every server).
func (s *Service) Running(srv *core.Server) bool {
	return srv.LastSeenAt != nil && s.Now().Sub(*srv.LastSeenAt) <= 2*s.reconcileEvery
}

// ServerDetail is a server with its live monitoring.
type ServerDetail struct {
	*core.Server
	Load    core.ServerLoad
	Clients int // clients placed there (not deleted)
}

// ServerDetail returns a server with live load read from its runtime now; an
// unreachable server is reported as such, not as an error.
func (s *Service) ServerDetail(ctx context.Context, id string) (*ServerDetail, error) {
	srv, err := s.GetServer(ctx, id)
	if err != nil {
		return nil, err
	}
	counts, err := s.store.CountClientsByServer(ctx)
	if err != nil {
		return nil, err
	}
	d := &ServerDetail{Server: srv, Clients: counts[srv.ID]}
	d.Load = s.probe(ctx, srv)
	return d, nil
}

// probe reads a server's load and records the heartbeat when it answers.
func (s *Service) probe(ctx context.Context, srv *core.Server) core.ServerLoad {
	now := s.Now().UTC()
	rt, err := s.RuntimeFor(srv)
	if err != nil {
		return core.ServerLoad{Error: core.ErrorMessage(err), CheckedAt: now}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	load, err := rt.Load(pctx, srv)
	load.CheckedAt = now
	if err != nil {
		load.Reachable = false
		load.Error = core.ErrorMessage(err)
		s.Log.Warn("server probe failed", "server", srv.ID, "err", err)
		return load
	}
	load.Reachable = true
	if updated, err := s.store.UpdateServer(ctx, srv.ID, core.ServerUpdate{LastSeenAt: &now}); err == nil {
		srv.LastSeenAt = updated.LastSeenAt
	}
	return load
}

// UpdateServer changes a server's record.
func (s *Service) UpdateServer(ctx context.Context, id string, in ServerInput) (*core.Server, error) {
	if err := s.Check(ctx, core.ActionServerEdit, core.On(core.ResourceServer, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("server", id)
	}
	if err := s.checkServerInput(in, false); err != nil {
		return nil, err
	}
	var srv *core.Server
	err := core.InTx(ctx, s.store, func(q Queries) error {
		var err error
		if in.Name != nil {
			n := strings.TrimSpace(*in.Name)
			in.Name = &n
		}
		srv, err = q.UpdateServer(ctx, id, core.ServerUpdate{
			Name: in.Name, Address: in.Address, Runtime: in.Runtime,
			Capacity: in.Capacity, Location: in.Location, Status: in.Status,
			Kind: in.Kind, OSType: in.OSType, CPUs: in.CPUs, MemoryMB: in.MemoryMB,
			Description: in.Description, Addresses: in.Addresses,
		})
		if err != nil {
			return err
		}
		return s.Audit(ctx, q, "server.update", "server", id, srv)
	})
	return srv, err
}

// DeleteServer removes a server's record. It is a conflict while clients live there.
func (s *Service) DeleteServer(ctx context.Context, id string) error {
	if err := s.Check(ctx, core.ActionServerDelete, core.On(core.ResourceServer, id)); err != nil {
		return err
	}
	if !core.ValidID(id) {
		return core.NotFound("server", id)
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := q.GetServer(ctx, id); err != nil {
			return err
		}
		if err := q.LockServers(ctx); err != nil {
			return err
		}
		counts, err := q.CountClientsByServer(ctx)
		if err != nil {
			return err
		}
		if n := counts[id]; n > 0 {
			return core.Errorf(core.KindConflict, "server has %d clients; move or delete them first", n)
		}
		if err := q.DeleteServer(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "server.delete", "server", id, nil)
	})
}

// RebootServer restarts every instance on the server, as a task.
func (s *Service) RebootServer(ctx context.Context, id string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionServerReboot, core.On(core.ResourceServer, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("server", id)
	}
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		if _, err := q.GetServer(ctx, id); err != nil {
			return err
		}
		var err error
		if t, err = s.Enqueue(ctx, q, KindServerReboot, "server", id, serverPayload{ServerID: id}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "server.reboot", "server", id, map[string]string{"task_id": t.ID})
	})
	return t, err
}

type serverPayload struct {
	ServerID string `json:"server_id"`
}
