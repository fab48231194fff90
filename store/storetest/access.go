package storetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop/machine"
)

// testGrants checks the access policy's grants: to users and to groups, on one
// resource or on every one, granted twice without change, listed with filters
// and pages, removed, and gone with their user.
func testGrants(t *testing.T, s Store) {
	ctx := context.Background()
	ann, ben := newUser(t, s, "ann"), newUser(t, s, "ben")
	g := &core.Group{Name: "deployers"}
	ok(t, s.CreateGroup(ctx, g))
	toAnn := core.Grantee{Kind: core.GranteeUser, ID: ann.ID}
	toBen := core.Grantee{Kind: core.GranteeUser, ID: ben.ID}
	toGroup := core.Grantee{Kind: core.GranteeGroup, ID: g.ID}

	view := &core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7", CreatedAt: base}
	addGrant(t, s, view, true)
	again := &core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7", CreatedAt: base.Add(time.Hour)}
	addGrant(t, s, again, false)
	diff(t, base, again.CreatedAt) // the first grant stays
	deploy := &core.Grant{Grantee: toGroup, Action: core.ActionApplicationDeploy, CreatedAt: base.Add(time.Minute)}
	addGrant(t, s, deploy, true)
	host := &core.Grant{Grantee: toBen, Action: core.ActionServerView, ResourceID: "srv-1", CreatedAt: base.Add(2 * time.Minute)}
	addGrant(t, s, host, true)
	// The same action on another resource, or to another grantee, is another grant.
	other := &core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-8", CreatedAt: base.Add(3 * time.Minute)}
	addGrant(t, s, other, true)

	nobody := "0190b6c4-6d5a-7000-8000-0000000000ff"
	_, err := s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: nobody}, Action: core.ActionServerView})
	wantKind(t, err, core.KindNotFound)
	_, err = s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: nobody}, Action: core.ActionServerView})
	wantKind(t, err, core.KindNotFound)

	list := func(f core.GrantFilter) ([]*core.Grant, int) {
		t.Helper()
		gs, n, err := s.ListGrants(ctx, f)
		ok(t, err)
		return gs, n
	}
	all, n := list(core.GrantFilter{})
	diff(t, 4, n)
	diff(t, []*core.Grant{view, deploy, host, other}, all)
	got, n := list(core.GrantFilter{Grantee: &toAnn})
	diff(t, 2, n)
	diff(t, []*core.Grant{view, other}, got)
	got, _ = list(core.GrantFilter{Grantee: &toGroup})
	diff(t, []*core.Grant{deploy}, got)
	got, _ = list(core.GrantFilter{ResourceID: ptr("app-7")})
	diff(t, []*core.Grant{view}, got)
	got, _ = list(core.GrantFilter{ResourceID: ptr("")}) // grants on every resource
	diff(t, []*core.Grant{deploy}, got)
	got, _ = list(core.GrantFilter{Actions: []core.Action{core.ActionApplicationDeploy, core.ActionServerView}})
	diff(t, []*core.Grant{deploy, host}, got)
	got, n = list(core.GrantFilter{Actions: []core.Action{}})
	diff(t, 0, n)
	diff(t, []*core.Grant{}, got)
	got, n = list(core.GrantFilter{Page: core.Page{Offset: 1, Limit: 2}})
	diff(t, 4, n)
	diff(t, []*core.Grant{deploy, host}, got)

	ok(t, s.RemoveGrant(ctx, core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7"}))
	wantKind(t, s.RemoveGrant(ctx, core.Grant{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-7"}), core.KindNotFound)
	wantKind(t, s.RemoveGrant(ctx, core.Grant{Grantee: toAnn, Action: core.ActionApplicationView}), core.KindNotFound) // not the grant on app-8
	got, _ = list(core.GrantFilter{Grantee: &toAnn})
	diff(t, []*core.Grant{other}, got)

	ok(t, s.DeleteUser(ctx, ben.ID))
	got, n = list(core.GrantFilter{})
	diff(t, 2, n)
	diff(t, []*core.Grant{deploy, other}, got)
}

// addGrant adds g and checks whether it was new.
func addGrant(t testing.TB, s Store, g *core.Grant, isNew bool) {
	t.Helper()
	added, err := s.AddGrant(context.Background(), g)
	ok(t, err)
	if added != isNew {
		t.Fatalf("AddGrant(%+v) added %v, want %v", g, added, isNew)
	}
}

// testUserAccess checks what the access policy reads of a user at once: its own
// grants and its groups' (not other users' or other groups'), its roles by
// project, the projects it owns and the machines assigned to it.
func testUserAccess(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	ann, ben := newUser(t, s, "ann"), newUser(t, s, "ben")
	mine, theirs := &core.Group{Name: "mine"}, &core.Group{Name: "theirs"}
	ok(t, s.CreateGroup(ctx, mine))
	ok(t, s.CreateGroup(ctx, theirs))
	ok(t, s.AddGroupMember(ctx, mine.ID, ann.ID))
	ok(t, s.AddGroupMember(ctx, theirs.ID, ben.ID))
	grant := func(to core.Grantee, action core.Action, resource string) core.Grant {
		t.Helper()
		g := core.Grant{Grantee: to, Action: action, ResourceID: resource}
		addGrant(t, s, &g, true)
		return core.Grant{Grantee: to, Action: action, ResourceID: resource} // as UserAccess answers: no time
	}
	own := grant(core.Grantee{Kind: core.GranteeUser, ID: ann.ID}, core.ActionApplicationView, "app-7")
	viaGroup := grant(core.Grantee{Kind: core.GranteeGroup, ID: mine.ID}, core.ActionApplicationDeploy, "")
	grant(core.Grantee{Kind: core.GranteeUser, ID: ben.ID}, core.ActionServerView, "")
	grant(core.Grantee{Kind: core.GranteeGroup, ID: theirs.ID}, core.ActionServerEdit, "")

	p1, p2 := &core.Project{Name: "p1"}, &core.Project{Name: "p2"}
	owned := &core.Project{Name: "owned", OwnerID: ann.ID}
	for _, p := range []*core.Project{p1, p2, owned, {Name: "ben's", OwnerID: ben.ID}} {
		ok(t, s.CreateProject(ctx, p))
	}
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p1.ID, UserID: ann.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p1.ID, UserID: ann.ID, Role: core.RoleAdmin}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p2.ID, UserID: ann.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: p2.ID, UserID: ben.ID, Role: core.RoleAdmin}))
	m1 := &core.Instance{Name: "m1", ServerID: "srv-1", ProjectID: p1.ID, State: core.StateActive}
	m2 := &core.Instance{Name: "m2", ServerID: "srv-1", ProjectID: p1.ID, State: core.StateActive}
	ok(t, s.CreateInstance(ctx, m1))
	ok(t, s.CreateInstance(ctx, m2))
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m1.ID, SubjectType: machine.SubjectUser, SubjectID: ann.ID, AssignedAt: base}))
	ok(t, s.AddMachineAssignment(ctx, &machine.MachineAssignment{MachineID: m2.ID, SubjectType: machine.SubjectUser, SubjectID: ben.ID, AssignedAt: base}))

	ua, err := s.UserAccess(ctx, ann.ID)
	ok(t, err)
	slices.SortFunc(ua.Grants, func(a, b core.Grant) int { return cmp.Compare(a.Action, b.Action) })
	for _, roles := range ua.ProjectRoles {
		slices.Sort(roles)
	}
	diff(t, &core.UserAccess{
		Grants:        []core.Grant{viaGroup, own}, // application.deploy sorts first
		ProjectRoles:  map[string][]core.Role{p1.ID: {core.RoleAdmin, core.RoleMember}, p2.ID: {core.RoleMember}},
		OwnedProjects: []string{owned.ID},
		Assigned:      []string{m1.ID},
	}, ua)

	none, err := s.UserAccess(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	ok(t, err)
	diff(t, &core.UserAccess{ProjectRoles: map[string][]core.Role{}}, none)

	// Scoped to some resources: the grants on them and on every resource,
	// the rest whole.
	scoped, isScoped := st.(core.ScopedAccessStore)
	if !isScoped {
		t.Fatalf("%T is no core.ScopedAccessStore", st)
	}
	onApp8 := grant(core.Grantee{Kind: core.GranteeGroup, ID: mine.ID}, core.ActionApplicationView, "app-8")
	grant(core.Grantee{Kind: core.GranteeGroup, ID: theirs.ID}, core.ActionApplicationView, "app-8") // ben's group
	grant(core.Grantee{Kind: core.GranteeUser, ID: ben.ID}, core.ActionApplicationEdit, "app-7")
	for _, tc := range []struct {
		ids  []string
		want []core.Grant
	}{
		{[]string{"app-7", "app-8", "app-9"}, []core.Grant{viaGroup, own, onApp8}},
		{[]string{"app-8"}, []core.Grant{viaGroup, onApp8}},
		{[]string{}, []core.Grant{viaGroup}},
	} {
		ua, err := scoped.UserAccessOn(ctx, ann.ID, tc.ids)
		ok(t, err)
		slices.SortFunc(ua.Grants, func(a, b core.Grant) int {
			return cmp.Or(cmp.Compare(a.Action, b.Action), cmp.Compare(a.ResourceID, b.ResourceID))
		})
		diff(t, tc.want, ua.Grants)
		diff(t, []string{m1.ID}, ua.Assigned)
		diff(t, []string{owned.ID}, ua.OwnedProjects)
		if len(ua.ProjectRoles) != 2 {
			t.Fatalf("scoped %v: roles %v", tc.ids, ua.ProjectRoles)
		}
	}
}

// testGrantSets checks grants read in sets: grouped by grantee and resource,
// one type's actions each in the rules' order, paged over the sets in the
// order of their first grant, and filtered by grantee, grantee kind,
// resource, resources, and type-wide or per-resource.
func testGrantSets(t *testing.T, s Store) {
	ctx := context.Background()
	ann, ben := newUser(t, s, "ann"), newUser(t, s, "ben")
	g := &core.Group{Name: "deployers"}
	ok(t, s.CreateGroup(ctx, g))
	toAnn := core.Grantee{Kind: core.GranteeUser, ID: ann.ID}
	toBen := core.Grantee{Kind: core.GranteeUser, ID: ben.ID}
	toGroup := core.Grantee{Kind: core.GranteeGroup, ID: g.ID}
	for i, gr := range []core.Grant{
		{Grantee: toAnn, Action: core.ActionApplicationDeploy, ResourceID: "app-1"},
		{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-1"},
		{Grantee: toGroup, Action: core.ActionApplicationView},
		{Grantee: toBen, Action: core.ActionApplicationEdit, ResourceID: "app-2"},
		{Grantee: toAnn, Action: core.ActionServerView, ResourceID: "srv-1"},
		{Grantee: toGroup, Action: core.ActionApplicationEdit, ResourceID: "app-1"},
		{Grantee: toAnn, Action: core.ActionApplicationView, ResourceID: "app-2"},
		{Grantee: toGroup, Action: core.ActionApplicationDeploy},
	} {
		gr.CreatedAt = base.Add(time.Duration(i) * time.Minute)
		addGrant(t, s, &gr, true)
	}
	set := func(to core.Grantee, resource string, actions ...core.Action) *core.GrantSet {
		name, number := ann.Name, ann.Number
		switch to {
		case toBen:
			name, number = ben.Name, ben.Number
		case toGroup:
			name, number = g.Name, g.Number
		}
		return &core.GrantSet{Grantee: to, GranteeName: name, GranteeNumber: number, ResourceID: resource, Actions: actions}
	}
	annApp1 := set(toAnn, "app-1", core.ActionApplicationView, core.ActionApplicationDeploy) // the rules' order
	groupAll := set(toGroup, "", core.ActionApplicationView, core.ActionApplicationDeploy)
	benApp2 := set(toBen, "app-2", core.ActionApplicationEdit)
	groupApp1 := set(toGroup, "app-1", core.ActionApplicationEdit)
	annApp2 := set(toAnn, "app-2", core.ActionApplicationView)

	apps := func(f core.GrantSetFilter) core.GrantSetFilter { f.Type = core.ResourceApplication; return f }
	for _, c := range []struct {
		name  string
		f     core.GrantSetFilter
		want  []*core.GrantSet
		total int
	}{
		{"every set", apps(core.GrantSetFilter{}), []*core.GrantSet{annApp1, groupAll, benApp2, groupApp1, annApp2}, 5},
		{"a page", apps(core.GrantSetFilter{Page: core.Page{Offset: 1, Limit: 2}}), []*core.GrantSet{groupAll, benApp2}, 5},
		{"the first page", apps(core.GrantSetFilter{Page: core.Page{Limit: 1}}), []*core.GrantSet{annApp1}, 5},
		{"the last page", apps(core.GrantSetFilter{Page: core.Page{Offset: 4, Limit: 2}}), []*core.GrantSet{annApp2}, 5},
		{"past the end", apps(core.GrantSetFilter{Page: core.Page{Offset: 9, Limit: 2}}), []*core.GrantSet{}, 5},
		{"a grantee", apps(core.GrantSetFilter{Grantee: &toAnn}), []*core.GrantSet{annApp1, annApp2}, 2},
		{"groups", apps(core.GrantSetFilter{GranteeKind: ptr(core.GranteeGroup)}), []*core.GrantSet{groupAll, groupApp1}, 2},
		{"users", apps(core.GrantSetFilter{GranteeKind: ptr(core.GranteeUser)}), []*core.GrantSet{annApp1, benApp2, annApp2}, 3},
		{"a resource", apps(core.GrantSetFilter{ResourceID: ptr("app-1")}), []*core.GrantSet{annApp1, groupApp1}, 2},
		{"resources", apps(core.GrantSetFilter{ResourceIDs: []string{"app-2", "app-9"}}), []*core.GrantSet{benApp2, annApp2}, 2},
		{"no resources", apps(core.GrantSetFilter{ResourceIDs: []string{}}), []*core.GrantSet{}, 0},
		{"type-wide", apps(core.GrantSetFilter{TypeWide: ptr(true)}), []*core.GrantSet{groupAll}, 1},
		{"per resource", apps(core.GrantSetFilter{TypeWide: ptr(false), Page: core.Page{Limit: 3}}), []*core.GrantSet{annApp1, benApp2, groupApp1}, 4},
		{"together", apps(core.GrantSetFilter{Grantee: &toGroup, TypeWide: ptr(false)}), []*core.GrantSet{groupApp1}, 1},
		{"another type", core.GrantSetFilter{Type: core.ResourceServer}, []*core.GrantSet{set(toAnn, "srv-1", core.ActionServerView)}, 1},
		{"a type without grants", core.GrantSetFilter{Type: core.ResourceLink}, []*core.GrantSet{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.ListGrantSets(ctx, c.f)
			ok(t, err)
			diff(t, c.total, total)
			diff(t, c.want, got)
		})
	}
	_, _, err := s.ListGrantSets(ctx, core.GrantSetFilter{})
	wantKind(t, err, core.KindInvalid)
	_, _, err = s.ListGrantSets(ctx, core.GrantSetFilter{Type: core.ResourceApplication, Page: core.Page{Sort: []string{"created_at"}}})
	wantKind(t, err, core.KindInvalid)

	// A set goes with its last grant.
	ok(t, s.RemoveGrant(ctx, core.Grant{Grantee: toBen, Action: core.ActionApplicationEdit, ResourceID: "app-2"}))
	got, total, err := s.ListGrantSets(ctx, apps(core.GrantSetFilter{}))
	ok(t, err)
	diff(t, 4, total)
	diff(t, []*core.GrantSet{annApp1, groupAll, groupApp1, annApp2}, got)
}
