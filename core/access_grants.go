package core

import (
	"context"
	"slices"
	"time"
)

// The use cases that keep grants (access.go): giving an action to a user or a
// group, on one resource or on every resource of the action's type, taking it
// back, and listing them. Granting is an administrator's act (grant.manage),
// unless a grant says otherwise.

// checkGrant checks a grant's action and resource id (KindInvalid).
func checkGrant(g Grant) error {
	rule, ok := ruleIndex[g.Action]
	switch {
	case !ok:
		return Invalid("action", "unknown action %q", g.Action)
	case rule.holders&personal != 0:
		return Invalid("action", "%s is its owner's alone and cannot be granted", g.Action)
	}
	return CheckLine("resource_id", g.ResourceID, MaxNameLen)
}

// granteeName checks a grantee within q (an unknown user or group is
// KindNotFound, an unknown kind KindInvalid) and returns its name.
func granteeName(ctx context.Context, q Queries, to Grantee) (string, error) {
	switch to.Kind {
	case GranteeUser:
		u, err := ManagedUser(ctx, q, to.ID)
		if err != nil {
			return "", err
		}
		return u.Name, nil
	case GranteeGroup:
		if !ValidID(to.ID) {
			return "", GroupNotFound(to.ID)
		}
		g, err := q.GetGroup(ctx, to.ID)
		if ErrorKind(err) == KindNotFound {
			return "", GroupNotFound(to.ID)
		}
		if err != nil {
			return "", err
		}
		return g.Name, nil
	default:
		return "", Invalid("grantee", "a grant is to a %q or a %q", GranteeUser, GranteeGroup)
	}
}

// GrantChange is one flag of a permission set changed: Grant given, or taken
// back when Remove is set.
type GrantChange struct {
	Grant  Grant `json:"grant"`
	Remove bool  `json:"remove,omitempty"`
}

// MaxGrantChanges bounds the changes of one ChangeGrants call.
const MaxGrantChanges = 1000

// grantAudit is the detail of a grant's audit event.
type grantAudit struct {
	Grantee      Grantee    `json:"grantee"`
	GranteeName  string     `json:"grantee_name"`
	Action       Action     `json:"action"`
	ResourceID   string     `json:"resource_id"`
	ResourceName string     `json:"resource_name,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"` // of a grant given
}

// grantTarget is what a grant's audit event is about: the resource of a grant
// on one, and for a grant on every resource of a type (or of module.use) the
// module of the product it opens, named by the type (or the module's id).
func grantTarget(g Grant) (typ, id string) {
	switch t := ActionType(g.Action); {
	case t == ResourceModule:
		return string(ResourceModule), g.ResourceID
	case g.ResourceID == "":
		return string(ResourceModule), string(t)
	default:
		return string(t), g.ResourceID
	}
}

// ChangeGrants gives and takes back grants, all in one transaction after one
// check of grant.manage: a permission set saved as a whole. It returns the
// changes that changed something, in their order; giving a grant that is held,
// or taking back one that is not, is no change and is not audited. Every
// change is checked as GrantPermission checks a grant (an unknown action is
// KindInvalid, an unknown user or group KindNotFound), and one that fails
// leaves every grant as it was. Each change made is one audit event
// ("grant.add" or "grant.remove", on the grant's target: grantTarget), in the
// same transaction.
func (s *Service) ChangeGrants(ctx context.Context, changes []GrantChange) ([]GrantChange, error) {
	if err := s.Check(ctx, ActionGrantManage, Resource{Type: ResourceGrant}); err != nil {
		return nil, err
	}
	if len(changes) > MaxGrantChanges {
		return nil, Invalid("changes", "at most %d grants change at once (%d asked)", MaxGrantChanges, len(changes))
	}
	changes = slices.Clone(changes)
	var out []GrantChange
	err := InTx(ctx, s.store, func(q Queries) error {
		out = []GrantChange{}
		changed, err := s.changeGrants(ctx, q, changes)
		if err != nil {
			return err
		}
		for i, c := range changes {
			if changed[i] {
				out = append(out, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeGrants applies changes within q and reports which changed something;
// a grant given gets its CreatedAt (the first grant's when it was held).
func (s *Service) changeGrants(ctx context.Context, q Queries, changes []GrantChange) ([]bool, error) {
	names := map[Grantee]string{} // each grantee is checked once
	changed := make([]bool, len(changes))
	now := s.Now().UTC()
	for i := range changes {
		g := &changes[i].Grant
		if err := checkGrant(*g); err != nil {
			return nil, err
		}
		name, ok := names[g.Grantee]
		if !ok {
			var err error
			if name, err = granteeName(ctx, q, g.Grantee); err != nil {
				return nil, err
			}
			names[g.Grantee] = name
		}
		detail := grantAudit{Grantee: g.Grantee, GranteeName: name, Action: g.Action, ResourceID: g.ResourceID}
		action := "grant.add"
		if changes[i].Remove {
			g.CreatedAt = time.Time{}
			err := q.RemoveGrant(ctx, *g)
			if ErrorKind(err) == KindNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			action = "grant.remove"
		} else {
			g.CreatedAt = now
			added, err := q.AddGrant(ctx, g)
			if err != nil {
				return nil, err
			}
			if !added {
				continue
			}
			detail.CreatedAt = &g.CreatedAt
		}
		changed[i] = true
		typ, id := grantTarget(*g)
		if err := s.Audit(ctx, q, action, typ, id, detail); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// GrantPermission gives g.Grantee g.Action on g.ResourceID (every resource of
// the action's type when empty); granting twice is no change (the grant
// returned is the one held). An unknown action is KindInvalid, an unknown
// user or group KindNotFound.
func (s *Service) GrantPermission(ctx context.Context, g Grant) (*Grant, error) {
	if err := s.Check(ctx, ActionGrantManage, Resource{Type: ResourceGrant}); err != nil {
		return nil, err
	}
	changes := []GrantChange{{Grant: g}}
	err := InTx(ctx, s.store, func(q Queries) error {
		_, err := s.changeGrants(ctx, q, changes)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &changes[0].Grant, nil
}

// RevokePermission takes back a grant; KindNotFound when there is none.
func (s *Service) RevokePermission(ctx context.Context, g Grant) error {
	if err := s.Check(ctx, ActionGrantManage, Resource{Type: ResourceGrant}); err != nil {
		return err
	}
	return InTx(ctx, s.store, func(q Queries) error {
		changed, err := s.changeGrants(ctx, q, []GrantChange{{Grant: g, Remove: true}})
		if err != nil {
			return err
		}
		if !changed[0] {
			return Errorf(KindNotFound, "%s %s holds no grant of %s on %q", g.Grantee.Kind, g.Grantee.ID, g.Action, g.ResourceID)
		}
		return nil
	})
}

// ListGrants lists the grants f selects, oldest first.
func (s *Service) ListGrants(ctx context.Context, f GrantFilter) ([]*Grant, int, error) {
	if err := s.Check(ctx, ActionGrantView, Resource{Type: ResourceGrant}); err != nil {
		return nil, 0, err
	}
	var fields []FilterField
	if f.Grantee != nil {
		if k := f.Grantee.Kind; k != GranteeUser && k != GranteeGroup {
			return nil, 0, Invalid("grantee", "a grant is to a %q or a %q", GranteeUser, GranteeGroup)
		}
		fields = append(fields, FilterValue("grantee", &f.Grantee.ID))
	}
	if err := CheckFilter(append(fields, FilterValue("resource_id", f.ResourceID))...); err != nil {
		return nil, 0, err
	}
	for _, a := range f.Actions {
		if !KnownAction(a) {
			return nil, 0, Invalid("action", "unknown action %q", a)
		}
	}
	return s.store.ListGrants(ctx, f)
}

// ListGrantSets lists the grant sets f selects: what each grantee holds of
// f.Type's actions on each resource (or on all of them), a page of sets at a
// time, with the number of sets. f.Type is required.
func (s *Service) ListGrantSets(ctx context.Context, f GrantSetFilter) ([]*GrantSet, int, error) {
	if err := s.Check(ctx, ActionGrantView, Resource{Type: ResourceGrant}); err != nil {
		return nil, 0, err
	}
	if f.Type == "" {
		return nil, 0, Invalid("type", "grant sets are listed for one resource type")
	}
	if len(ActionsOf(f.Type)) == 0 {
		return nil, 0, Invalid("type", "unknown resource type %q", f.Type)
	}
	validKind := func(k GranteeKind) error {
		if k != GranteeUser && k != GranteeGroup {
			return Invalid("grantee", "a grant is to a %q or a %q", GranteeUser, GranteeGroup)
		}
		return nil
	}
	var fields []FilterField
	if f.Grantee != nil {
		if err := validKind(f.Grantee.Kind); err != nil {
			return nil, 0, err
		}
		fields = append(fields, FilterValue("grantee", &f.Grantee.ID))
	}
	if f.GranteeKind != nil {
		if err := validKind(*f.GranteeKind); err != nil {
			return nil, 0, err
		}
	}
	fields = append(fields, FilterValue("resource_id", f.ResourceID), FilterCond("resource_id", &Cond{Op: OpIn, Values: f.ResourceIDs}))
	if err := CheckFilter(fields...); err != nil {
		return nil, 0, err
	}
	if len(f.Sort) > 0 {
		return nil, 0, Invalid("sort", "grant sets are listed in one order")
	}
	return s.store.ListGrantSets(ctx, f)
}
