package sim

import (
	"context"
	"fmt"

	"hostdeck/core"
)

var _ core.Rescuer = (*Sim)(nil)

// Rescue puts an active instance into state rescue, booted from image: the
// instance's own system stops and its volumes stay as they are. Rescuing an
// instance already in rescue from the same image does nothing (a retried task);
// any other state than active is KindConflict. The password is not kept.
func (s *Sim) Rescue(ctx context.Context, srv *core.Server, ref string, image string, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in, _, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("rescue instance %s: %w", ref, err)
	}
	if image == "" {
		return core.Invalid("image", "rescue image is empty")
	}
	switch {
	case in.state == core.StateRescue && s.rescue[in] == image:
		return nil
	case in.state != core.StateActive:
		return core.Errorf(core.KindConflict, "rescue instance %s: it is %s, and rescue needs active", ref, in.state)
	}
	to := *in
	to.state, to.next, to.nextAt = core.StateRescue, "", 0
	return s.changeRescue(in, to, image)
}

// Unrescue leaves rescue: the rescue system goes and the instance starts again
// (building for StartDelay, then active). An instance already on its way back or
// active is left alone (a retried task); any other state than rescue is
// KindConflict.
func (s *Sim) Unrescue(ctx context.Context, srv *core.Server, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, in, now, err := s.lookup(ctx, srv, ref)
	if err != nil {
		return fmt.Errorf("unrescue instance %s: %w", ref, err)
	}
	switch {
	case in.state != core.StateRescue && s.rescue[in] == "" && (in.state == core.StateActive || in.next == core.StateActive):
		return nil
	case in.state != core.StateRescue:
		return core.Errorf(core.KindConflict, "unrescue instance %s: it is %s, and unrescue needs rescue", ref, in.state)
	}
	to := *in
	to.state, to.next, to.nextAt = core.StateBuilding, s.upState(sv), now.Add(s.opts.StartDelay).UnixNano()
	to.settle(now)
	return s.changeRescue(in, to, "")
}

// RescueImage reports the image of an instance's rescue system, or "" when it is
// not in rescue.
func (s *Sim) RescueImage(serverID, ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.server(serverID).byRef[ref]; ok {
		return s.rescue[in]
	}
	return ""
}
