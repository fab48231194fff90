package core_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/hosting"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

// accessOf is an AccessStore that knows one user.
type accessOf struct {
	core.AccessStore
	userID string
	ua     core.UserAccess
	calls  int
}

func (s *accessOf) UserAccess(_ context.Context, id string) (*core.UserAccess, error) {
	s.calls++
	if id != s.userID {
		return &core.UserAccess{}, nil
	}
	ua := s.ua
	return &ua, nil
}

// TestAccessRules is the policy's rule book, one case per rule: who holds
// what, decided by Check and listed by Actions alike.
func TestAccessRules(t *testing.T) {
	const sam, other = "0190a0a0-0000-7000-8000-0000000005a1", "0190a0a0-0000-7000-8000-00000000077e"
	st := &accessOf{userID: sam, ua: core.UserAccess{
		Grants: []core.Grant{
			{Grantee: core.Grantee{Kind: core.GranteeUser, ID: sam}, Action: core.ActionApplicationView, ResourceID: "app-7"},
			{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: "devs"}, Action: core.ActionApplicationDeploy},                  // every application
			{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: "devs"}, Action: core.ActionServerReboot, ResourceID: "host-1"}, // one host
		},
		ProjectRoles:  map[string][]core.Role{"course": {core.RoleMember}},
		OwnedProjects: []string{"own-project"},
		Assigned:      []string{"machine-1"},
	}}
	system := core.ActorFrom(context.Background())
	admin := core.Actor{UserID: other, Name: "admin", Role: core.RoleAdmin, Face: "test"}
	operator := core.Actor{Name: "satellite-admin", Role: core.RoleAdmin, Face: "satellite", Realm: core.RealmStorage}
	member := core.Actor{UserID: sam, Name: "sam", Role: core.RoleMember, Face: "test"}
	anonymous := core.Anonymous("test", "192.0.2.1")
	instance := func(id, project string) core.Resource {
		return core.Resource{Type: core.ResourceInstance, ID: id, Project: project}
	}
	for _, c := range []struct {
		name   string
		actor  core.Actor
		action core.Action
		on     core.Resource
		want   bool
	}{
		{"the system does anything", system, core.ActionServerDelete, core.On(core.ResourceServer, "s1"), true},
		{"the system follows anyone's request", system, core.ActionVMRequestView, core.Resource{Type: core.ResourceVMRequest, ID: "r", Owner: sam}, true},
		{"an anonymous caller holds nothing", anonymous, core.ActionFlavorView, core.Resource{Type: core.ResourceFlavor}, false},
		{"an administrator reboots any instance", admin, core.ActionInstanceReboot, instance("i1", ""), true},
		{"an administrator lists every client", admin, core.ActionClientView, core.Resource{Type: core.ResourceClient}, true},
		{"the satellite's operator creates users", operator, core.ActionUserCreate, core.Resource{Type: core.ResourceUser}, true},
		{"the satellite's operator uses the storage module", operator, core.ActionModuleUse, core.On(core.ResourceModule, core.ModuleStorage), true},
		{"a personal action is its owner's alone", admin, core.ActionVMRequestView, core.Resource{Type: core.ResourceVMRequest, ID: "r", Owner: sam}, false},
		{"its owner takes it", member, core.ActionVMRequestView, core.Resource{Type: core.ResourceVMRequest, ID: "r", Owner: sam}, true},
		{"a member sees flavors (every signed-in user)", member, core.ActionFlavorView, core.Resource{Type: core.ResourceFlavor}, true},
		{"a member does not see servers", member, core.ActionServerView, core.Resource{Type: core.ResourceServer}, false},
		{"a member does not create clients", member, core.ActionClientCreate, core.Resource{Type: core.ResourceClient}, false},
		{"a member sees itself", member, core.ActionUserView, core.Resource{Type: core.ResourceUser, ID: sam, Owner: sam}, true},
		{"a member does not see others", member, core.ActionUserView, core.Resource{Type: core.ResourceUser, ID: other, Owner: other}, false},
		{"a member does not list users", member, core.ActionUserView, core.Resource{Type: core.ResourceUser}, false},
		{"a member does not edit itself", member, core.ActionUserEdit, core.Resource{Type: core.ResourceUser, ID: sam, Owner: sam}, false},
		{"a member sets no password, even its own", member, core.ActionUserPassword, core.Resource{Type: core.ResourceUser, ID: sam, Owner: sam}, false},
		{"a member sees a public image", member, core.ActionImageView, core.Resource{Type: core.ResourceImage, ID: "pub", Public: true}, true},
		{"a member sees its own image", member, core.ActionImageView, core.Resource{Type: core.ResourceImage, ID: "own", Owner: sam}, true},
		{"a member does not see another's image", member, core.ActionImageView, core.Resource{Type: core.ResourceImage, ID: "own", Owner: other}, false},
		{"a member does not see every image", member, core.ActionImageView, core.Resource{Type: core.ResourceImage}, false},
		{"a member reboots the machine assigned to it", member, core.ActionInstanceReboot, instance("machine-1", "elsewhere"), true},
		{"a member reboots the instances of a project it has a role on", member, core.ActionInstanceReboot, instance("i2", "course"), true},
		{"a member reboots the instances of the projects it owns", member, core.ActionInstanceRescue, instance("i3", "own-project"), true},
		{"a member does not reboot others' instances", member, core.ActionInstanceReboot, instance("i4", "elsewhere"), false},
		{"a member does not reboot every instance", member, core.ActionInstanceReboot, core.Resource{Type: core.ResourceInstance}, false},
		{"a member does not administer its machine", member, core.ActionMachineAssign, core.On(core.ResourceMachine, "machine-1"), false},
		{"a member asks for a machine of a pool it has a role on", member, core.ActionMachineRequest, core.Resource{Type: core.ResourceMachine, Project: "course"}, true},
		{"not of another pool", member, core.ActionMachineRequest, core.Resource{Type: core.ResourceMachine, Project: "elsewhere"}, false},
		{"a member leaves its machine", member, core.ActionMachineLeave, core.Resource{Type: core.ResourceMachine, ID: "machine-1", Owner: sam}, true},
		{"a member inspects its own token", member, core.ActionTokenView, core.Resource{Type: core.ResourceToken, ID: "t", Owner: sam}, true},
		{"a member does not revoke another's token", member, core.ActionTokenRevoke, core.Resource{Type: core.ResourceToken, ID: "t", Owner: other}, false},
		{"a grant on one application", member, core.ActionApplicationView, core.On(core.ResourceApplication, "app-7"), true},
		{"is not a grant on another", member, core.ActionApplicationView, core.On(core.ResourceApplication, "app-8"), false},
		{"nor on every one", member, core.ActionApplicationView, core.Resource{Type: core.ResourceApplication}, false},
		{"nor of another action", member, core.ActionApplicationEdit, core.On(core.ResourceApplication, "app-7"), false},
		{"a group's grant on every application reaches its member", member, core.ActionApplicationDeploy, core.On(core.ResourceApplication, "app-8"), true},
		{"and answers for every application at once", member, core.ActionApplicationDeploy, core.Resource{Type: core.ResourceApplication}, true},
		{"a group's grant on one host", member, core.ActionServerReboot, core.On(core.ResourceServer, "host-1"), true},
		{"is not on another host", member, core.ActionServerReboot, core.On(core.ResourceServer, "host-2"), false},
		{"a member without grants uses no module", member, core.ActionModuleUse, core.On(core.ResourceModule, core.ModuleStorage), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := core.LoadPermissions(context.Background(), st, c.actor)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Check(c.action, c.on)
			if got := err == nil; got != c.want {
				t.Fatalf("Check(%s) = %v, want allowed %v", c.action, err, c.want)
			}
			if err != nil && core.ErrorKind(err) != core.KindForbidden {
				t.Fatalf("refusal %v is not KindForbidden", err)
			}
			if got := slices.Contains(p.Actions(c.on), c.action); got != c.want {
				t.Fatalf("Actions(%+v) = %v: %s listed %v, want %v", c.on, p.Actions(c.on), c.action, got, c.want)
			}
		})
	}
}

// TestAccessActions: one call lists what the actor may take on a resource, in
// the rules' order, from the same rules as Check; what the policy reads of an
// actor is read once for any number of resources.
func TestAccessActions(t *testing.T) {
	const sam = "0190a0a0-0000-7000-8000-0000000005a1"
	devs := core.Grantee{Kind: core.GranteeGroup, ID: "devs"}
	st := &accessOf{userID: sam, ua: core.UserAccess{Grants: []core.Grant{
		{Grantee: core.Grantee{Kind: core.GranteeUser, ID: sam}, Action: core.ActionApplicationView, ResourceID: "app-7"},
		{Grantee: devs, Action: core.ActionApplicationDeploy},
		{Grantee: devs, Action: core.ActionApplicationEdit, ResourceID: "app-7"},
	}}}
	member := core.Actor{UserID: sam, Name: "sam", Role: core.RoleMember, Face: "test"}
	p, err := core.LoadPermissions(context.Background(), st, member)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]core.Action{
		"app-7": {core.ActionApplicationView, core.ActionApplicationEdit, core.ActionApplicationDeploy},
		"app-8": {core.ActionApplicationDeploy},
	} {
		if d := cmp.Diff(want, p.Actions(core.On(core.ResourceApplication, id))); d != "" {
			t.Errorf("actions on %s (-want +got):\n%s", id, d)
		}
	}
	if st.calls != 1 {
		t.Errorf("the store was read %d times for one actor", st.calls)
	}
	if got := p.Actions(core.On(core.ResourceServer, "s1")); len(got) != 0 {
		t.Errorf("a member's actions on a server: %v", got)
	}

	admin, err := core.LoadPermissions(context.Background(), st, core.Actor{UserID: "a", Name: "admin", Role: core.RoleAdmin, Face: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := []core.Action{core.ActionServerView, core.ActionServerCreate, core.ActionServerEdit, core.ActionServerDelete, core.ActionServerReboot,
		core.ActionServerInit, core.ActionServerLogin, core.ActionServerDeactivate}
	if d := cmp.Diff(want, admin.Actions(core.On(core.ResourceServer, "s1"))); d != "" {
		t.Errorf("an administrator's actions on a server (-want +got):\n%s", d)
	}
	if st.calls != 1 {
		t.Error("an administrator's permissions read the store")
	}

	// A refusal names the actor and the action; a misused action is a bug.
	err = p.Check(core.ActionInstanceReboot, core.On(core.ResourceInstance, "i1"))
	if core.ErrorKind(err) != core.KindForbidden || core.ErrorMessage(err) != "user sam is not allowed to reboot instances" {
		t.Errorf("refusal = %v", err)
	}
	if err := p.Check("instance.explode", core.On(core.ResourceInstance, "i1")); core.ErrorKind(err) != core.KindInternal {
		t.Errorf("unknown action = %v", err)
	}
	if err := p.Check(core.ActionInstanceReboot, core.On(core.ResourceServer, "s1")); core.ErrorKind(err) != core.KindInternal {
		t.Errorf("action on another type = %v", err)
	}
}

// TestActorIsSystem: only a context without an actor is the system; every actor
// a face makes, even one that has not authenticated, is not.
func TestActorIsSystem(t *testing.T) {
	if !core.ActorFrom(context.Background()).IsSystem() {
		t.Error("a context without an actor is not the system")
	}
	for _, a := range []core.Actor{
		core.Anonymous("trs", "192.0.2.1"),
		{Face: "billmgr", Source: "192.0.2.1"},
		{Name: "satellite-admin", Role: core.RoleAdmin, Face: "satellite", Realm: core.RealmStorage},
		{UserID: "u", Name: "sam"},
		{Name: "someone"},
	} {
		if core.ActorFrom(core.WithActor(context.Background(), a)).IsSystem() {
			t.Errorf("%+v is the system", a)
		}
	}
}

// TestGrantsThroughTheService: an administrator grants an action to a group;
// it reaches the group's members and no one else, is audited, and its
// revocation takes effect on the next call. A member grants nothing, and grants
// name known actions and grantees only.
func TestGrantsThroughTheService(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	sam, tess := newMember(t, e, "sam"), newMember(t, e, "tess")
	name := "deployers"
	g, err := e.Identity.CreateGroup(ctx, identity.GroupInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.AddGroupMember(ctx, g.ID, sam.ID); err != nil {
		t.Fatal(err)
	}
	app := core.On(core.ResourceApplication, "app-7")
	actions := func(u *core.User) []core.Action {
		t.Helper()
		got, err := e.Svc.Actions(memberCtx(u), app)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	deploy := core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: g.ID}, Action: core.ActionApplicationDeploy}
	if _, err := e.Svc.GrantPermission(memberCtx(sam), deploy); core.ErrorKind(err) != core.KindForbidden {
		t.Fatalf("a member grants: %v", err)
	}
	if _, err := e.Svc.GrantPermission(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	view := core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: tess.ID}, Action: core.ActionApplicationView, ResourceID: "app-7"}
	if _, err := e.Svc.GrantPermission(ctx, view); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]core.Action{core.ActionApplicationDeploy}, actions(sam)); d != "" {
		t.Errorf("sam (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]core.Action{core.ActionApplicationView}, actions(tess)); d != "" {
		t.Errorf("tess (-want +got):\n%s", d)
	}
	page, err := e.Svc.ActionsOnEach(memberCtx(tess), []core.Resource{app, core.On(core.ResourceApplication, "app-8")})
	if d := cmp.Diff([][]core.Action{{core.ActionApplicationView}, nil}, page); err != nil || d != "" {
		t.Errorf("tess's page (-want +got):\n%s %v", d, err)
	}
	gs, n, err := e.Svc.ListGrants(ctx, core.GrantFilter{Grantee: &deploy.Grantee})
	if err != nil || n != 1 || gs[0].Action != core.ActionApplicationDeploy {
		t.Fatalf("grants of the group = %d %v, %v", n, gs, err)
	}
	if _, _, err := e.Svc.ListGrants(ctx, core.GrantFilter{Grantee: &core.Grantee{Kind: "robot", ID: sam.ID}}); core.ErrorKind(err) != core.KindInvalid {
		t.Errorf("grants of a robot: %v", err)
	}
	if _, _, err := e.Svc.ListGrants(memberCtx(sam), core.GrantFilter{}); core.ErrorKind(err) != core.KindForbidden {
		t.Errorf("a member lists grants: %v", err)
	}
	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: ptr("grant.add")})
	if err != nil || len(evs) != 2 || evs[0].TargetType != "application" {
		t.Errorf("audit = %+v, %v", evs, err)
	}

	if err := e.Svc.RevokePermission(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	if got := actions(sam); len(got) != 0 {
		t.Errorf("after the revocation sam holds %v", got)
	}
	if err := e.Svc.RevokePermission(ctx, deploy); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("revoked twice: %v", err)
	}

	for _, bad := range []struct {
		g    core.Grant
		kind core.Kind
	}{
		{core.Grant{Grantee: deploy.Grantee, Action: "application.explode"}, core.KindInvalid},
		{core.Grant{Grantee: deploy.Grantee, Action: core.ActionVMRequestView}, core.KindInvalid}, // personal
		{core.Grant{Grantee: core.Grantee{Kind: "robot", ID: sam.ID}, Action: core.ActionServerView}, core.KindInvalid},
		{core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: sam.ID}, Action: core.ActionServerView}, core.KindNotFound},
		{core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: "nobody"}, Action: core.ActionServerView}, core.KindNotFound},
		{core.Grant{Grantee: deploy.Grantee, Action: core.ActionServerView, ResourceID: "a\nb"}, core.KindInvalid},
	} {
		if _, err := e.Svc.GrantPermission(ctx, bad.g); core.ErrorKind(err) != bad.kind {
			t.Errorf("grant %+v: %v, want %s", bad.g, err, bad.kind)
		}
	}
}

// TestGrantedReboot: who may reboot an instance is the policy's rule, whatever
// asks: an instance's users and a user granted instance.reboot on it reboot it;
// anyone else finds no such instance.
func TestGrantedReboot(t *testing.T) {
	e := testenv.New(t)
	srv := e.Server(t, "node-1", 5)
	sam, tess := newMember(t, e, "sam"), newMember(t, e, "tess")
	in := &core.Instance{Name: "vm-1", ServerID: srv.ID, State: core.StateActive, RuntimeRef: "ref-1"}
	if err := e.Store.CreateInstance(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Hosting.RebootInstance(memberCtx(tess), in.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("tess reboots another's instance: %v", err)
	}
	g := core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: tess.ID}, Action: core.ActionInstanceReboot, ResourceID: in.ID}
	if _, err := e.Svc.GrantPermission(e.AdminCtx(), g); err != nil {
		t.Fatal(err)
	}
	tk, err := e.Hosting.RebootInstance(memberCtx(tess), in.ID)
	if err != nil || tk.Kind != hosting.KindInstanceReboot {
		t.Fatalf("tess, granted, reboots: %+v, %v", tk, err)
	}
	if _, err := e.Hosting.StopInstance(memberCtx(tess), in.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("a grant of reboot lets tess stop it: %v", err)
	}
	if _, err := e.Hosting.RebootInstance(memberCtx(sam), in.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("sam reboots it: %v", err)
	}
}

// TestInstanceListIsTheRule: the instances a member's list shows are exactly
// those the policy lets it see one by one (InstanceFilter.VisibleTo is the list
// form of instance.view's rule).
func TestInstanceListIsTheRule(t *testing.T) {
	e := testenv.New(t)
	bg := context.Background()
	srv := e.Server(t, "node-1", 10)
	sam, tess := newMember(t, e, "sam"), newMember(t, e, "tess")
	owned, course, foreign := &core.Project{Name: "owned", OwnerID: sam.ID}, &core.Project{Name: "course"}, &core.Project{Name: "foreign", OwnerID: tess.ID}
	for _, p := range []*core.Project{owned, course, foreign} {
		if err := e.Store.CreateProject(bg, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Store.GrantRole(bg, &core.RoleGrant{ProjectID: course.ID, UserID: sam.ID, Role: core.RoleMember}); err != nil {
		t.Fatal(err)
	}
	var all []*core.Instance
	for i, project := range []string{owned.ID, course.ID, foreign.ID, "", ""} {
		in := &core.Instance{Name: "vm-" + string(rune('a'+i)), ServerID: srv.ID, ProjectID: project, State: core.StateActive}
		if err := e.Store.CreateInstance(bg, in); err != nil {
			t.Fatal(err)
		}
		all = append(all, in)
	}
	if err := e.Store.AddMachineAssignment(bg, &machine.MachineAssignment{MachineID: all[3].ID, SubjectType: machine.SubjectUser, SubjectID: sam.ID}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*core.User{sam, tess} {
		ctx := memberCtx(u)
		p, err := e.Svc.Permissions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, in := range all {
			if p.Can(core.ActionInstanceView, core.Resource{Type: core.ResourceInstance, ID: in.ID, Project: in.ProjectID}) {
				want = append(want, in.Name)
			}
		}
		list, err := e.Hosting.ListVisibleInstances(ctx, core.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range list.Items {
			got = append(got, in.Name)
		}
		if d := cmp.Diff(want, got); d != "" || len(got) == 0 {
			t.Errorf("%s: list and rule differ (-rule +list):\n%s", u.Name, d)
		}
	}
}
