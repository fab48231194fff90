package sim

import (
	"context"
	"sync"

	"hostdeck/core"
)

var _ core.UsageMeter = (*Sim)(nil)

// usageKey names one instance of one simulator.
type usageKey struct {
	sim      *Sim
	serverID string
	ref      string
}

// reported holds the figures tests set with SetUsage. It lives beside the Sim
// (not in it) so that the usage ability stays in this file.
var reported = struct {
	sync.Mutex
	m map[usageKey]core.InstanceUsage
}{m: map[usageKey]core.InstanceUsage{}}

// SetUsage scripts what Usage reports for an instance: the bytes its volumes
// store and its egress counter (cumulative bytes sent). Without it, Usage
// reports the bytes of the files written into the instance's volumes and no
// egress.
func (s *Sim) SetUsage(serverID, ref string, u core.InstanceUsage) {
	reported.Lock()
	defer reported.Unlock()
	reported.m[usageKey{s, serverID, ref}] = u
}

// Usage reports the instance's usage: the figures set by SetUsage, or the size
// of the files in its volumes. An unknown ref is KindNotFound; an unreachable
// server KindUnavailable.
func (s *Sim) Usage(ctx context.Context, srv *core.Server, ref string) (core.InstanceUsage, error) {
	s.mu.Lock()
	_, in, _, err := s.lookup(ctx, srv, ref)
	var stored int64
	if err == nil {
		stored, err = s.st.storedBytes(in)
	}
	s.mu.Unlock()
	if err != nil {
		return core.InstanceUsage{}, err
	}
	reported.Lock()
	defer reported.Unlock()
	if u, ok := reported.m[usageKey{s, srv.ID, ref}]; ok {
		return u, nil
	}
	return core.InstanceUsage{StoredBytes: stored}, nil
}
