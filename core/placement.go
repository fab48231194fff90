package core

import "context"

// This file holds placement: which server a new instance goes to. Clients and
// TRS machines both take a place of a server's capacity.

// PlacementQueries is what placement reads of the store.
type PlacementQueries interface {
	GetServer(ctx context.Context, id string) (*Server, error)
	ListServers(ctx context.Context, f ServerFilter) ([]*Server, int, error)
	// CountClientsByServer counts the clients that are not deleted, per server id.
	CountClientsByServer(ctx context.Context) (map[string]int, error)
	// CountMachinesByServer counts machines that are not deleted, per server id.
	CountMachinesByServer(ctx context.Context) (map[string]int, error)
}

// Place picks the server for a new instance: the requested one if it is active and
// has room, else the least-loaded active server with room. Call inside a transaction
// after LockServers.
func Place(ctx context.Context, q PlacementQueries, want *string) (*Server, error) {
	counts, err := CountLoad(ctx, q)
	if err != nil {
		return nil, err
	}
	return PlaceBy(ctx, q, want, counts, "client")
}

// PlaceBy is Place with the load already counted (clients and machines per
// server); what names the new thing in the error of a full fleet.
func PlaceBy(ctx context.Context, q PlacementQueries, want *string, counts map[string]int, what string) (*Server, error) {
	if want != nil {
		srv, err := q.GetServer(ctx, *want)
		if ErrorKind(err) == KindNotFound {
			return nil, Invalid("server_id", "server %q not found", *want)
		} else if err != nil {
			return nil, err
		}
		if srv.Status != ServerActive {
			return nil, Errorf(KindConflict, "server %s is not active", srv.Name)
		}
		if counts[srv.ID] >= srv.Capacity {
			return nil, Errorf(KindConflict, "server %s is full (%d of %d)", srv.Name, counts[srv.ID], srv.Capacity)
		}
		return srv, nil
	}
	active := ServerActive
	servers, _, err := q.ListServers(ctx, ServerFilter{Status: &active})
	if err != nil {
		return nil, err
	}
	var best *Server
	var bestLoad float64
	for _, srv := range servers {
		n := counts[srv.ID]
		if n >= srv.Capacity {
			continue
		}
		load := float64(n) / float64(srv.Capacity)
		if best == nil || load < bestLoad {
			best, bestLoad = srv, load
		}
	}
	if best == nil {
		return nil, Errorf(KindConflict, "no active server has room for a new %s", what)
	}
	return best, nil
}

// CountLoad counts clients and machines per server: both take a server's capacity.
func CountLoad(ctx context.Context, q PlacementQueries) (map[string]int, error) {
	counts, err := q.CountClientsByServer(ctx)
	if err != nil {
		return nil, err
	}
	machines, err := q.CountMachinesByServer(ctx)
	if err != nil {
		return nil, err
	}
	for id, n := range machines {
		counts[id] += n
	}
	return counts, nil
}
