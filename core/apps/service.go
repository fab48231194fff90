package apps

import (
	"context"

	"hostdeck/core"
)

// Service holds the use cases of applications and product lines. It embeds
// core's Service for the shared helpers (access checks, audit, clock).
type Service struct {
	*core.Service
	store Store
}

// New returns apps' Service over c, keeping its records in st.
func New(c *core.Service, st Store) *Service { return &Service{Service: c, store: st} }

// change runs fn in one transaction, after the applications' lock
// (LockApps: concurrent moves or dependencies cannot make a cycle together),
// and wakes the task runner after the commit.
func (s *Service) change(ctx context.Context, fn func(q Queries) error) error {
	return core.Change(ctx, s.Service, s.store, func(q Queries) error {
		if err := q.LockApps(ctx); err != nil {
			return err
		}
		return fn(q)
	})
}

// creator is the name a record made by the actor in ctx keeps: "" for the
// system.
func creator(ctx context.Context) string {
	a := core.ActorFrom(ctx)
	if a.IsSystem() {
		return ""
	}
	return a.Name
}

// roleOnly is an AccessStore that knows no user's grants: permissions loaded
// through it are what an actor holds by who it is alone (the system, an
// administrator), without a store read.
type roleOnly struct{ core.AccessStore }

func (roleOnly) UserAccess(context.Context, string) (*core.UserAccess, error) {
	return &core.UserAccess{}, nil
}

// seesWithoutGrants reports whether the actor in ctx holds action on every
// resource of r's type by who it is, grants aside.
func seesWithoutGrants(ctx context.Context, action core.Action, r core.Resource) bool {
	p, err := core.LoadPermissions(ctx, roleOnly{}, core.ActorFrom(ctx))
	return err == nil && p.Can(action, r)
}

// fieldChange is one changed field of an audited edit.
type fieldChange struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// setChange is what an audited edit added to a set and took from it.
type setChange struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// changes are an edit's changed fields and sets, by name, for its audit
// event: an audit reader says "changed run_user from a to b".
type changes map[string]any

func (c changes) field(name string, before, after any) {
	c[name] = fieldChange{Before: before, After: after}
}

func (c changes) set(name string, added, removed []string) {
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	prev, _ := c[name].(setChange)
	prev.Added = append(prev.Added, added...)
	prev.Removed = append(prev.Removed, removed...)
	c[name] = prev
}
