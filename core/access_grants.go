package core

import "context"

// The use cases that keep grants (access.go): giving an action to a user or a
// group, on one resource or on every resource of the action's type, taking it
// back, and listing them. Granting is an administrator's act (grant.manage),
// unless a grant says otherwise.

// checkGrant checks a grant's action, resource id and grantee, the grantee
// within q (an unknown user or group is KindNotFound).
func checkGrant(ctx context.Context, q Queries, g Grant) error {
	rule, ok := ruleIndex[g.Action]
	switch {
	case !ok:
		return Invalid("action", "unknown action %q", g.Action)
	case rule.holders&personal != 0:
		return Invalid("action", "%s is its owner's alone and cannot be granted", g.Action)
	}
	if err := CheckLine("resource_id", g.ResourceID, MaxNameLen); err != nil {
		return err
	}
	switch g.Grantee.Kind {
	case GranteeUser:
		if _, err := ManagedUser(ctx, q, g.Grantee.ID); err != nil {
			return err
		}
	case GranteeGroup:
		if !ValidID(g.Grantee.ID) {
			return GroupNotFound(g.Grantee.ID)
		}
		if _, err := q.GetGroup(ctx, g.Grantee.ID); err != nil {
			if ErrorKind(err) == KindNotFound {
				return GroupNotFound(g.Grantee.ID)
			}
			return err
		}
	default:
		return Invalid("grantee", "a grant is to a %q or a %q", GranteeUser, GranteeGroup)
	}
	return nil
}

// grantTarget is the audit target of a grant: the resource, or its type.
func grantTarget(g Grant) (string, string) {
	return string(ActionType(g.Action)), g.ResourceID
}

// GrantPermission gives g.Grantee g.Action on g.ResourceID (every resource of
// the action's type when empty); granting twice is no change. An unknown
// action is KindInvalid, an unknown user or group KindNotFound.
func (s *Service) GrantPermission(ctx context.Context, g Grant) (*Grant, error) {
	if err := s.Check(ctx, ActionGrantManage, Resource{Type: ResourceGrant}); err != nil {
		return nil, err
	}
	g.CreatedAt = s.Now().UTC()
	err := InTx(ctx, s.store, func(q Queries) error {
		if err := checkGrant(ctx, q, g); err != nil {
			return err
		}
		if err := q.AddGrant(ctx, &g); err != nil {
			return err
		}
		typ, id := grantTarget(g)
		return s.Audit(ctx, q, "grant.add", typ, id, g)
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// RevokePermission takes back a grant; KindNotFound when there is none.
func (s *Service) RevokePermission(ctx context.Context, g Grant) error {
	if err := s.Check(ctx, ActionGrantManage, Resource{Type: ResourceGrant}); err != nil {
		return err
	}
	return InTx(ctx, s.store, func(q Queries) error {
		if err := q.RemoveGrant(ctx, g); err != nil {
			if ErrorKind(err) == KindNotFound {
				return Errorf(KindNotFound, "%s %s holds no grant of %s on %q", g.Grantee.Kind, g.Grantee.ID, g.Action, g.ResourceID)
			}
			return err
		}
		typ, id := grantTarget(g)
		return s.Audit(ctx, q, "grant.remove", typ, id, g)
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
