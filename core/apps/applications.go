package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"hostdeck/core"
)

// Bounds of what an application holds, besides core's text rules.
const (
	MaxCommandLen = core.MaxRefLen  // commands and paths
	MaxTypeLen    = core.MaxNameLen // the JSON of Type
	MaxSetLen     = 1000            // ids given in one set (children, required, persons)
)

// namesListed is how many names a refusal lists before "and N more".
const namesListed = 20

func appNotFound(id string) error { return core.NotFound("application", id) }

func appResource(id string) core.Resource { return core.On(core.ResourceApplication, id) }

// Create makes an application (application.create) under in.ParentID (a
// root when unset), with the sets in gives it. A name is required; a sibling
// of the same name is KindConflict; an unknown parent, child, required
// application, user or product line is KindNotFound naming it.
func (s *Service) Create(ctx context.Context, in AppInput) (*Application, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.Check(core.ActionApplicationCreate, core.Resource{Type: core.ResourceApplication}); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, core.Invalid("name", "name is not set")
	}
	a := &Application{Creator: creator(ctx)}
	ch := changes{}
	if err := applyFields(a, in, ch); err != nil {
		return nil, err
	}
	var out *Application
	err = s.change(ctx, func(q Queries) error {
		a.FullName = a.Name
		if in.ParentID != nil && *in.ParentID != "" {
			parent, err := s.loadApp(ctx, q, p, core.ActionApplicationView, *in.ParentID)
			if err != nil {
				return err
			}
			a.ParentID, a.FullName = parent.ID, parent.FullName+"."+a.Name
			ch.field("parent", "", parent.FullName)
		}
		if err := s.setLine(ctx, q, a, in.ProductLineID, ch); err != nil {
			return err
		}
		if err := q.CreateApp(ctx, a); err != nil {
			return nameTaken(err, a.FullName)
		}
		if err := s.applySets(ctx, q, p, a, in, ch); err != nil {
			return err
		}
		var err error
		if out, err = q.GetApp(ctx, a.ID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "application.create", string(core.ResourceApplication), a.ID,
			map[string]any{"name": out.FullName, "number": out.Number, "changes": ch})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns an application the actor sees (application.view); others are
// KindNotFound.
func (s *Service) Get(ctx context.Context, id string) (*Application, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	return s.loadApp(ctx, s.store, p, core.ActionApplicationView, id)
}

// GetByNumber is Get by the application's number.
func (s *Service) GetByNumber(ctx context.Context, n int64) (*Application, error) {
	id, err := core.IDOfNumber(ctx, s.store, core.NumberApplication, "application", n)
	if err != nil {
		return nil, err
	}
	a, err := s.Get(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, core.NotFound("application", strconv.FormatInt(n, 10))
	}
	return a, err
}

// Update changes an application (application.edit): the fields in sets,
// its parent (moving it renames its subtree), and replaces the sets given.
// A parent that is the application or one of its descendants, or a child
// that is the application or one of its ancestors, is KindInvalid (a
// cycle), as is a dependency cycle.
func (s *Service) Update(ctx context.Context, id string, in AppInput) (*Application, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	var out *Application
	err = s.change(ctx, func(q Queries) error {
		a, err := s.loadApp(ctx, q, p, core.ActionApplicationEdit, id)
		if err != nil {
			return err
		}
		oldFull := a.FullName
		ch := changes{}
		if err := applyFields(a, in, ch); err != nil {
			return err
		}
		prefix := parentPrefix(oldFull)
		if in.ParentID != nil && *in.ParentID != a.ParentID {
			before := strings.TrimSuffix(prefix, ".")
			if *in.ParentID == "" {
				a.ParentID, prefix = "", ""
			} else {
				parent, err := s.loadApp(ctx, q, p, core.ActionApplicationView, *in.ParentID)
				if err != nil {
					return err
				}
				if parent.ID == a.ID || below(parent.FullName, oldFull) {
					return core.Invalid("parent_id", "would make a cycle: %s → %s → %s", oldFull, parent.FullName, oldFull)
				}
				a.ParentID, prefix = parent.ID, parent.FullName+"."
			}
			ch.field("parent", before, strings.TrimSuffix(prefix, "."))
		}
		a.FullName = prefix + a.Name
		if err := s.setLine(ctx, q, a, in.ProductLineID, ch); err != nil {
			return err
		}
		if len(ch) > 0 {
			if err := q.UpdateApp(ctx, a, oldFull); err != nil {
				return nameTaken(err, a.FullName)
			}
		}
		if err := s.applySets(ctx, q, p, a, in, ch); err != nil {
			return err
		}
		if out, err = q.GetApp(ctx, a.ID); err != nil {
			return err
		}
		if len(ch) == 0 {
			return nil
		}
		return s.Audit(ctx, q, "application.edit", string(core.ResourceApplication), a.ID,
			map[string]any{"name": out.FullName, "changes": ch})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes an application (application.delete) with its dependency
// links, persons and the grants on it. One that still has children or is
// required by others is KindConflict naming them.
func (s *Service) Delete(ctx context.Context, id string) error {
	p, err := s.Permissions(ctx)
	if err != nil {
		return err
	}
	return s.change(ctx, func(q Queries) error {
		a, err := s.loadApp(ctx, q, p, core.ActionApplicationDelete, id)
		if err != nil {
			return err
		}
		page := core.Page{Limit: namesListed, Sort: []string{"full_name"}}
		kids, err := q.ListApps(ctx, AppFilter{ParentID: &a.ID, Page: page})
		if err != nil {
			return err
		}
		deps, err := q.ListApps(ctx, AppFilter{Requires: &a.ID, Page: page})
		if err != nil {
			return err
		}
		var why []string
		if kids.Total > 0 {
			why = append(why, "still has children "+fullNames(kids))
		}
		if deps.Total > 0 {
			why = append(why, "is still required by "+fullNames(deps))
		}
		if len(why) > 0 {
			return core.Errorf(core.KindConflict, "application %s %s", a.FullName, strings.Join(why, " and "))
		}
		if err := q.DeleteApp(ctx, a.ID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "application.delete", string(core.ResourceApplication), a.ID,
			map[string]any{"name": a.FullName, "number": a.Number})
	})
}

// List lists one page of the applications f selects that the actor sees:
// every one for the system, administrators and holders of application.view
// on every application; for another user those it holds application.view on
// by a grant to itself or to one of its groups (one query). f.Limit must be
// positive.
func (s *Service) List(ctx context.Context, f AppFilter) (core.List[*Application], error) {
	none := core.List[*Application]{Items: []*Application{}}
	if f.Limit <= 0 {
		return core.List[*Application]{}, core.Invalid("limit", "a page of applications needs a positive limit")
	}
	if err := core.CheckFilter(core.FilterValue("name", f.Name), core.FilterValue("full_name", f.FullName),
		core.FilterValue("parent_id", f.ParentID), core.FilterValue("required_by", f.RequiredBy),
		core.FilterValue("requires", f.Requires), core.FilterValue("product_line_id", f.ProductLineID),
		core.FilterValue("user_name", f.UserName), core.FilterValue("role_name", f.RoleName),
		core.FilterValue("user_id", f.UserID)); err != nil {
		return core.List[*Application]{}, err
	}
	if err := core.CheckCond("person_ids", core.Cond{Op: core.OpIn, Values: f.PersonIDs}); err != nil {
		return core.List[*Application]{}, err
	}
	f.VisibleTo = nil
	if !seesWithoutGrants(ctx, core.ActionApplicationView, core.Resource{Type: core.ResourceApplication}) {
		a := core.ActorFrom(ctx)
		if a.UserID == "" {
			return none, nil
		}
		// The grants rule of application.view, type-wide grants included,
		// as one query: no read of the actor's grants first.
		f.VisibleTo = &a.UserID
	}
	return s.store.ListApps(ctx, f)
}

// Actions lists the actions the actor may take on each of apps (a page a
// face shows with what its caller may do to each), reading the actor's
// grants once whatever their number.
func (s *Service) Actions(ctx context.Context, apps []*Application) ([][]core.Action, error) {
	rs := make([]core.Resource, len(apps))
	for i, a := range apps {
		rs[i] = appResource(a.ID)
	}
	return s.ActionsOnEach(ctx, rs)
}

// AddChildren moves the applications of childIDs under id (application.edit
// on each), renaming their subtrees.
func (s *Service) AddChildren(ctx context.Context, id string, childIDs []string) error {
	return s.editSet(ctx, id, func(q Queries, p *core.Permissions, a *Application, ch changes) error {
		return s.addChildren(ctx, q, p, a, childIDs, ch)
	})
}

// RemoveChildren makes those of childIDs that are children of id roots.
func (s *Service) RemoveChildren(ctx context.Context, id string, childIDs []string) error {
	return s.editSet(ctx, id, func(q Queries, p *core.Permissions, a *Application, ch changes) error {
		return s.removeChildren(ctx, q, p, a, childIDs, ch)
	})
}

// AddRequired makes id require the applications of ids; a dependency cycle
// is KindInvalid.
func (s *Service) AddRequired(ctx context.Context, id string, ids []string) error {
	return s.editSet(ctx, id, func(q Queries, p *core.Permissions, a *Application, ch changes) error {
		return s.addRequired(ctx, q, p, a, ids, ch)
	})
}

// RemoveRequired takes back id's dependencies on the applications of ids.
func (s *Service) RemoveRequired(ctx context.Context, id string, ids []string) error {
	return s.editSet(ctx, id, func(q Queries, p *core.Permissions, a *Application, ch changes) error {
		return s.removeRequired(ctx, q, p, a, ids, ch)
	})
}

// AddPersons names persons responsible for id and returns them as stored
// (with their users' names and addresses). Each user must exist and each
// type be one of PersonTypes.
func (s *Service) AddPersons(ctx context.Context, id string, ps []Person) ([]Person, error) {
	var out []Person
	err := s.editSet(ctx, id, func(q Queries, p *core.Permissions, a *Application, ch changes) error {
		var err error
		out, err = s.addPersons(ctx, q, a, ps, ch)
		return err
	})
	return out, err
}

// RemovePersons takes back every type of person the users of userIDs are on
// id.
func (s *Service) RemovePersons(ctx context.Context, id string, userIDs []string) error {
	return s.editSet(ctx, id, func(q Queries, p *core.Permissions, a *Application, ch changes) error {
		ps := make([]Person, len(userIDs))
		for i, u := range userIDs {
			ps[i] = Person{UserID: u}
		}
		return s.removePersons(ctx, q, a, ps, ch)
	})
}

// ListPersons lists one page of an application's persons, by user name;
// p.Limit must be positive.
func (s *Service) ListPersons(ctx context.Context, id string, p core.Page) (core.List[Person], error) {
	if p.Limit <= 0 {
		return core.List[Person]{}, core.Invalid("limit", "a page of persons needs a positive limit")
	}
	perms, err := s.Permissions(ctx)
	if err != nil {
		return core.List[Person]{}, err
	}
	if _, err := s.loadApp(ctx, s.store, perms, core.ActionApplicationView, id); err != nil {
		return core.List[Person]{}, err
	}
	ps, total, err := s.store.ListAppPersons(ctx, id, p)
	if err != nil {
		return core.List[Person]{}, err
	}
	return core.List[Person]{Items: ps, Total: total}, nil
}

// editSet runs an edit of id's sets in one transaction and audits it.
func (s *Service) editSet(ctx context.Context, id string, fn func(q Queries, p *core.Permissions, a *Application, ch changes) error) error {
	p, err := s.Permissions(ctx)
	if err != nil {
		return err
	}
	return s.change(ctx, func(q Queries) error {
		a, err := s.loadApp(ctx, q, p, core.ActionApplicationEdit, id)
		if err != nil {
			return err
		}
		ch := changes{}
		if err := fn(q, p, a, ch); err != nil {
			return err
		}
		if len(ch) == 0 {
			return nil
		}
		return s.Audit(ctx, q, "application.edit", string(core.ResourceApplication), a.ID,
			map[string]any{"name": a.FullName, "changes": ch})
	})
}

// loadApp reads application id for action: KindNotFound when there is none
// or the actor does not see it, KindForbidden when it sees it but may not
// take action.
func (s *Service) loadApp(ctx context.Context, q Queries, p *core.Permissions, action core.Action, id string) (*Application, error) {
	if !core.ValidID(id) {
		return nil, appNotFound(id)
	}
	if !p.Can(core.ActionApplicationView, appResource(id)) {
		return nil, appNotFound(id)
	}
	a, err := q.GetApp(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, appNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if action != core.ActionApplicationView {
		if err := p.Check(action, appResource(id)); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// loadApps is loadApp for the distinct ids of a set given as field, read at
// once, in their first order.
func (s *Service) loadApps(ctx context.Context, q Queries, p *core.Permissions, action core.Action, field string, ids []string) ([]*Application, error) {
	ids = core.Dedupe(ids)
	if len(ids) > MaxSetLen {
		return nil, core.Invalid(field, "%s takes at most %d ids (%d given)", field, MaxSetLen, len(ids))
	}
	for _, id := range ids {
		if !core.ValidID(id) || !p.Can(core.ActionApplicationView, appResource(id)) {
			return nil, appNotFound(id)
		}
	}
	got, err := q.GetApps(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Application, len(got))
	for _, a := range got {
		byID[a.ID] = a
	}
	out := make([]*Application, len(ids))
	for i, id := range ids {
		a := byID[id]
		if a == nil {
			return nil, appNotFound(id)
		}
		if action != core.ActionApplicationView {
			if err := p.Check(action, appResource(id)); err != nil {
				return nil, err
			}
		}
		out[i] = a
	}
	return out, nil
}

// applySets replaces the sets in gives a (whose sets are as stored).
func (s *Service) applySets(ctx context.Context, q Queries, p *core.Permissions, a *Application, in AppInput, ch changes) error {
	if in.Children != nil {
		want := core.Dedupe(*in.Children)
		var gone []string
		for _, c := range a.Children {
			if !slices.Contains(want, c.ID) {
				gone = append(gone, c.ID)
			}
		}
		if err := s.removeChildren(ctx, q, p, a, gone, ch); err != nil {
			return err
		}
		if err := s.addChildren(ctx, q, p, a, want, ch); err != nil {
			return err
		}
	}
	if in.Required != nil {
		want := core.Dedupe(*in.Required)
		var gone []string
		for _, r := range a.Required {
			if !slices.Contains(want, r.ID) {
				gone = append(gone, r.ID)
			}
		}
		if err := s.removeRequired(ctx, q, p, a, gone, ch); err != nil {
			return err
		}
		if err := s.addRequired(ctx, q, p, a, want, ch); err != nil {
			return err
		}
	}
	if in.Persons != nil {
		want := *in.Persons
		var gone []Person
		for _, cur := range a.Persons {
			if !slices.ContainsFunc(want, func(w Person) bool { return w.UserID == cur.UserID && w.Type == cur.Type }) {
				gone = append(gone, cur)
			}
		}
		if err := s.removePersons(ctx, q, a, gone, ch); err != nil {
			return err
		}
		if _, err := s.addPersons(ctx, q, a, want, ch); err != nil {
			return err
		}
	}
	return nil
}

// addChildren moves the applications of ids under a, each audited as its
// own edit.
func (s *Service) addChildren(ctx context.Context, q Queries, p *core.Permissions, a *Application, ids []string, ch changes) error {
	kids, err := s.loadApps(ctx, q, p, core.ActionApplicationEdit, "children", ids)
	if err != nil {
		return err
	}
	var added []string
	for _, c := range kids {
		if c.ParentID == a.ID {
			continue
		}
		if c.ID == a.ID || below(a.FullName, c.FullName) {
			return core.Invalid("children", "would make a cycle: %s → %s → %s", c.FullName, a.FullName, c.FullName)
		}
		if err := s.move(ctx, q, c, a); err != nil {
			return err
		}
		added = append(added, c.FullName)
	}
	ch.set("children", added, nil)
	return nil
}

// removeChildren makes those of ids that are a's children roots.
func (s *Service) removeChildren(ctx context.Context, q Queries, p *core.Permissions, a *Application, ids []string, ch changes) error {
	kids, err := s.loadApps(ctx, q, p, core.ActionApplicationEdit, "children", ids)
	if err != nil {
		return err
	}
	var removed []string
	for _, c := range kids {
		if c.ParentID != a.ID {
			continue
		}
		removed = append(removed, c.FullName)
		if err := s.move(ctx, q, c, nil); err != nil {
			return err
		}
	}
	ch.set("children", nil, removed)
	return nil
}

// move puts c under parent (nil: makes it a root), renaming its subtree,
// and audits c's edit.
func (s *Service) move(ctx context.Context, q Queries, c, parent *Application) error {
	oldFull, before := c.FullName, strings.TrimSuffix(parentPrefix(c.FullName), ".")
	c.ParentID, c.FullName = "", c.Name
	after := ""
	if parent != nil {
		c.ParentID, c.FullName, after = parent.ID, parent.FullName+"."+c.Name, parent.FullName
	}
	if err := q.UpdateApp(ctx, c, oldFull); err != nil {
		return nameTaken(err, c.FullName)
	}
	ch := changes{}
	ch.field("parent", before, after)
	return s.Audit(ctx, q, "application.edit", string(core.ResourceApplication), c.ID,
		map[string]any{"name": c.FullName, "changes": ch})
}

// addRequired makes a require the applications of ids: not a itself, and
// none that requires a already (directly or through others).
func (s *Service) addRequired(ctx context.Context, q Queries, p *core.Permissions, a *Application, ids []string, ch changes) error {
	reqs, err := s.loadApps(ctx, q, p, core.ActionApplicationView, "required", ids)
	if err != nil {
		return err
	}
	var add, names []string
	for _, r := range reqs {
		if r.ID == a.ID {
			return core.Invalid("required", "application %s cannot require itself", a.FullName)
		}
		if !slices.ContainsFunc(a.Required, func(x Ref) bool { return x.ID == r.ID }) {
			add, names = append(add, r.ID), append(names, r.FullName)
		}
	}
	if len(add) == 0 {
		return nil
	}
	cyc, err := q.AppsRequiring(ctx, a.ID, add)
	if err != nil {
		return err
	}
	if len(cyc) > 0 {
		r := reqs[slices.IndexFunc(reqs, func(x *Application) bool { return x.ID == cyc[0] })]
		return core.Invalid("required", "would make a dependency cycle: %s requires %s, which requires %s", a.FullName, r.FullName, a.FullName)
	}
	if err := q.AddAppRequired(ctx, a.ID, add); err != nil {
		return err
	}
	ch.set("required", names, nil)
	return nil
}

// removeRequired takes back a's dependencies on the applications of ids.
func (s *Service) removeRequired(ctx context.Context, q Queries, p *core.Permissions, a *Application, ids []string, ch changes) error {
	reqs, err := s.loadApps(ctx, q, p, core.ActionApplicationView, "required", ids)
	if err != nil {
		return err
	}
	var gone, names []string
	for _, r := range reqs {
		if slices.ContainsFunc(a.Required, func(x Ref) bool { return x.ID == r.ID }) {
			gone, names = append(gone, r.ID), append(names, r.FullName)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if err := q.RemoveAppRequired(ctx, a.ID, gone); err != nil {
		return err
	}
	ch.set("required", nil, names)
	return nil
}

// checkPersons checks persons given for an application: each user exists,
// each type is one of PersonTypes (any for a removal, with anyType), and
// fills them with their users' fields, without repeats.
func checkPersons(ctx context.Context, q Queries, ps []Person, anyType bool) ([]Person, error) {
	if len(ps) > MaxSetLen {
		return nil, core.Invalid("persons", "persons takes at most %d persons (%d given)", MaxSetLen, len(ps))
	}
	users := map[string]*core.User{}
	var out []Person
	for _, p := range ps {
		if !(anyType && p.Type == "") && !slices.Contains(PersonTypes, p.Type) {
			return nil, core.Invalid("persons", "a person's type is one of %s, not %q", strings.Join(PersonTypes, ", "), p.Type)
		}
		u := users[p.UserID]
		if u == nil {
			if !core.ValidID(p.UserID) {
				return nil, core.UserNotFound(p.UserID)
			}
			var err error
			u, err = q.GetUser(ctx, p.UserID)
			if core.ErrorKind(err) == core.KindNotFound {
				return nil, core.UserNotFound(p.UserID)
			}
			if err != nil {
				return nil, err
			}
			users[p.UserID] = u
		}
		p = Person{UserID: u.ID, UserNumber: u.Number, Type: p.Type, Name: u.Name, Email: u.Email, Phone: u.Phone}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func personLabel(p Person) string {
	if p.Type == "" {
		return p.Name
	}
	return p.Name + " (" + p.Type + ")"
}

// addPersons names persons responsible for a.
func (s *Service) addPersons(ctx context.Context, q Queries, a *Application, ps []Person, ch changes) ([]Person, error) {
	ps, err := checkPersons(ctx, q, ps, false)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range ps {
		if !slices.ContainsFunc(a.Persons, func(x Person) bool { return x.UserID == p.UserID && x.Type == p.Type }) {
			names = append(names, personLabel(p))
		}
	}
	if len(ps) > 0 {
		if err := q.AddAppPersons(ctx, a.ID, ps); err != nil {
			return nil, err
		}
	}
	ch.set("persons", names, nil)
	return ps, nil
}

// removePersons takes back persons of a (every type of a user when Type is
// empty).
func (s *Service) removePersons(ctx context.Context, q Queries, a *Application, ps []Person, ch changes) error {
	ps, err := checkPersons(ctx, q, ps, true)
	if err != nil {
		return err
	}
	var names []string
	for _, p := range ps {
		for _, x := range a.Persons {
			if x.UserID == p.UserID && (p.Type == "" || x.Type == p.Type) {
				names = append(names, personLabel(x))
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	if err := q.RemoveAppPersons(ctx, a.ID, ps); err != nil {
		return err
	}
	ch.set("persons", nil, names)
	return nil
}

// setLine puts a in the product line of id ("": in none) when id is set and
// differs.
func (s *Service) setLine(ctx context.Context, q Queries, a *Application, id *string, ch changes) error {
	if id == nil || *id == a.ProductLineID {
		return nil
	}
	before, after := "", ""
	if a.ProductLineID != "" {
		l, err := q.GetProductLine(ctx, a.ProductLineID)
		if err != nil {
			return err
		}
		before = l.Name
	}
	if *id != "" {
		l, err := loadLine(ctx, q, *id)
		if err != nil {
			return err
		}
		after = l.Name
	}
	a.ProductLineID = *id
	ch.field("product_line", before, after)
	return nil
}

// applyFields checks the fields in sets and sets them on a, noting each
// change.
func applyFields(a *Application, in AppInput, ch changes) error {
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return err
		}
		if *in.Name != a.Name {
			ch.field("name", a.Name, *in.Name)
			a.Name = *in.Name
		}
	}
	if in.Description != nil {
		if err := core.CheckText("description", *in.Description, core.MaxTextLen); err != nil {
			return err
		}
		if *in.Description != a.Description {
			ch.field("description", a.Description, *in.Description)
			a.Description = *in.Description
		}
	}
	if in.Type != nil {
		t, err := checkType(*in.Type)
		if err != nil {
			return err
		}
		if !bytes.Equal(t, a.Type) {
			ch.field("type", a.Type, t)
			a.Type = t
		}
	}
	for _, f := range []struct {
		name string
		v    *string
		to   *string
		max  int
	}{
		{"run_user", in.RunUser, &a.RunUser, core.MaxNameLen},
		{"directory", in.Directory, &a.Directory, MaxCommandLen},
		{"startup_cmd", in.StartupCmd, &a.StartupCmd, MaxCommandLen},
		{"stop_cmd", in.StopCmd, &a.StopCmd, MaxCommandLen},
		{"stdout_path", in.StdoutPath, &a.StdoutPath, MaxCommandLen},
		{"stderr_path", in.StderrPath, &a.StderrPath, MaxCommandLen},
		{"pid_path", in.PidPath, &a.PidPath, MaxCommandLen},
	} {
		if f.v == nil {
			continue
		}
		if err := core.CheckLine(f.name, *f.v, f.max); err != nil {
			return err
		}
		if *f.v != *f.to {
			ch.field(f.name, *f.to, *f.v)
			*f.to = *f.v
		}
	}
	return nil
}

// checkName is the rule on an application's name: a name (core.CheckName)
// without dots, which join the names of a full name.
func checkName(name string) error {
	if err := core.CheckName("name", name, core.MaxNameLen); err != nil {
		return err
	}
	if strings.Contains(name, ".") {
		return core.Invalid("name", "an application's name must not contain a dot (%q): dots join the names of its full name", name)
	}
	return nil
}

// checkType is the rule on Type: a JSON scalar (a string, number, boolean
// or null, which is nil), kept as given but for surrounding space.
func checkType(raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	if len(t) > MaxTypeLen {
		return nil, core.Invalid("type", "type is %d bytes long; at most %d are allowed", len(t), MaxTypeLen)
	}
	if !json.Valid(t) {
		return nil, core.Invalid("type", "type must be a JSON value")
	}
	if t[0] == '{' || t[0] == '[' {
		return nil, core.Invalid("type", "type must be a JSON string, number or boolean")
	}
	return slices.Clone(t), nil
}

// parentPrefix is the full name of fullName's parent with the joining dot
// ("A.B." for "A.B.C"), "" for a root.
func parentPrefix(fullName string) string {
	return fullName[:strings.LastIndex(fullName, ".")+1]
}

// below reports whether the application named fullName is a descendant of
// the one named ancestor.
func below(fullName, ancestor string) bool {
	return strings.HasPrefix(fullName, ancestor+".")
}

// nameTaken turns a store's conflict on a full name into a refusal naming
// it.
func nameTaken(err error, fullName string) error {
	if core.ErrorKind(err) == core.KindConflict {
		return core.Errorf(core.KindConflict, "application %s already exists", fullName)
	}
	return err
}

// fullNames lists a page's full names, and how many more there are.
func fullNames(l core.List[*Application]) string {
	names := make([]string, len(l.Items))
	for i, a := range l.Items {
		names[i] = a.FullName
	}
	out := strings.Join(names, ", ")
	if more := l.Total - len(l.Items); more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}
