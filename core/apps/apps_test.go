package apps_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

func ptr[T any](v T) *T { return &v }

func newMember(t testing.TB, e *testenv.Env, name string) *core.User {
	t.Helper()
	pw := name + "-password"
	u, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func memberCtx(u *core.User) context.Context {
	return core.WithActor(context.Background(), core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: "test"})
}

// mkApp creates an application under parent (nil: a root) as the admin.
func mkApp(t testing.TB, e *testenv.Env, name string, parent *apps.Application) *apps.Application {
	t.Helper()
	in := apps.AppInput{Name: &name}
	if parent != nil {
		in.ParentID = &parent.ID
	}
	a, err := e.Apps.Create(e.AdminCtx(), in)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return a
}

func wantErr(t testing.TB, err error, kind core.Kind, contains string) {
	t.Helper()
	if core.ErrorKind(err) != kind || !strings.Contains(core.ErrorMessage(err), contains) {
		t.Fatalf("error %v (%s), want %s containing %q", err, core.ErrorKind(err), kind, contains)
	}
}

// fullName reads an application's full name now.
func fullName(t testing.TB, e *testenv.Env, id string) string {
	t.Helper()
	a, err := e.Apps.Get(e.AdminCtx(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.FullName
}

// TestTree: full names follow the tree as nodes are renamed and moved, whole
// subtrees at once; has_child follows the children; siblings' names are
// unique; a parent below the node, or a child above it, is a cycle.
func TestTree(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a := mkApp(t, e, "A", nil)
	b := mkApp(t, e, "B", a)
	c := mkApp(t, e, "C", b)
	d := mkApp(t, e, "D", b)
	x := mkApp(t, e, "X", nil)
	if c.FullName != "A.B.C" || c.ParentID != b.ID || c.ParentNumber != b.Number || c.Number == 0 || c.Creator != "admin" {
		t.Fatalf("C = %+v", c)
	}
	got, err := e.Apps.Get(ctx, b.ID)
	if err != nil || !got.HasChild || !cmp.Equal(got.Children, []apps.Ref{{ID: c.ID, Number: c.Number}, {ID: d.ID, Number: d.Number}}) {
		t.Fatalf("B = %+v, %v", got, err)
	}
	if n, err := e.Apps.GetByNumber(ctx, d.Number); err != nil || n.ID != d.ID {
		t.Fatalf("by number: %+v, %v", n, err)
	}
	_, err = e.Apps.GetByNumber(ctx, 999)
	wantErr(t, err, core.KindNotFound, "999")

	_, err = e.Apps.Create(ctx, apps.AppInput{Name: ptr("C"), ParentID: &b.ID})
	wantErr(t, err, core.KindConflict, "application A.B.C already exists")
	_, err = e.Apps.Create(ctx, apps.AppInput{Name: ptr("a.b")})
	wantErr(t, err, core.KindInvalid, "dot")
	_, err = e.Apps.Create(ctx, apps.AppInput{Name: ptr("bad\x00")})
	wantErr(t, err, core.KindInvalid, "control")
	_, err = e.Apps.Create(ctx, apps.AppInput{Name: ptr("E"), StartupCmd: ptr(strings.Repeat("x", apps.MaxCommandLen+1))})
	wantErr(t, err, core.KindInvalid, "startup_cmd")
	_, err = e.Apps.Create(ctx, apps.AppInput{Name: ptr("E"), ParentID: ptr(core.NewID())})
	wantErr(t, err, core.KindNotFound, "application")

	_, err = e.Apps.Update(ctx, b.ID, apps.AppInput{ParentID: &c.ID})
	wantErr(t, err, core.KindInvalid, "would make a cycle: A.B → A.B.C → A.B")
	_, err = e.Apps.Update(ctx, b.ID, apps.AppInput{ParentID: &b.ID})
	wantErr(t, err, core.KindInvalid, "cycle")
	wantErr(t, e.Apps.AddChildren(ctx, c.ID, []string{a.ID}), core.KindInvalid, "would make a cycle: A → A.B.C → A")
	wantErr(t, e.Apps.AddChildren(ctx, c.ID, []string{c.ID}), core.KindInvalid, "cycle")
	unknown := core.NewID()
	wantErr(t, e.Apps.AddChildren(ctx, x.ID, []string{d.ID, unknown}), core.KindNotFound, unknown)

	// A rename renames the subtree.
	if _, err := e.Apps.Update(ctx, a.ID, apps.AppInput{Name: ptr("Z")}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{a.ID: "Z", b.ID: "Z.B", c.ID: "Z.B.C", d.ID: "Z.B.D", x.ID: "X"} {
		if got := fullName(t, e, id); got != want {
			t.Errorf("after the rename: %s, want %s", got, want)
		}
	}
	// A move too; the old parent has no child left.
	moved, err := e.Apps.Update(ctx, b.ID, apps.AppInput{ParentID: &x.ID})
	if err != nil || moved.FullName != "X.B" || moved.ParentID != x.ID {
		t.Fatalf("moved B = %+v, %v", moved, err)
	}
	if got := fullName(t, e, d.ID); got != "X.B.D" {
		t.Errorf("D after the move: %s", got)
	}
	if got, _ := e.Apps.Get(ctx, a.ID); got.HasChild || len(got.Children) != 0 {
		t.Errorf("Z still has children: %+v", got.Children)
	}
	// A child taken out is a root; one put in moves under.
	if err := e.Apps.RemoveChildren(ctx, b.ID, []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	if got := fullName(t, e, c.ID); got != "C" {
		t.Errorf("C taken out: %s", got)
	}
	if err := e.Apps.AddChildren(ctx, a.ID, []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	if got := fullName(t, e, c.ID); got != "Z.C" {
		t.Errorf("C put under Z: %s", got)
	}
	// Children replaced: D moves under Z, C becomes a root.
	up, err := e.Apps.Update(ctx, a.ID, apps.AppInput{Children: &[]string{d.ID}})
	if err != nil || !cmp.Equal(up.Children, []apps.Ref{{ID: d.ID, Number: d.Number}}) {
		t.Fatalf("children replaced: %+v, %v", up, err)
	}
	if fullName(t, e, c.ID) != "C" || fullName(t, e, d.ID) != "Z.D" {
		t.Errorf("after the replace: C %s, D %s", fullName(t, e, c.ID), fullName(t, e, d.ID))
	}
	// A root's name is taken: the move is refused, nothing changed.
	mkApp(t, e, "D", nil)
	wantErr(t, e.Apps.RemoveChildren(ctx, a.ID, []string{d.ID}), core.KindConflict, "application D already exists")
	if got := fullName(t, e, d.ID); got != "Z.D" {
		t.Errorf("after a refused move: %s", got)
	}
}

// TestRequired: dependencies never make a cycle, and name applications that
// exist.
func TestRequired(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a, b, c := mkApp(t, e, "A", nil), mkApp(t, e, "B", nil), mkApp(t, e, "C", nil)
	if err := e.Apps.AddRequired(ctx, a.ID, []string{b.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apps.Update(ctx, b.ID, apps.AppInput{Required: &[]string{c.ID}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.Apps.AddRequired(ctx, a.ID, []string{a.ID}), core.KindInvalid, "cannot require itself")
	wantErr(t, e.Apps.AddRequired(ctx, b.ID, []string{a.ID}), core.KindInvalid, "would make a dependency cycle: B requires A, which requires B")
	wantErr(t, e.Apps.AddRequired(ctx, c.ID, []string{a.ID}), core.KindInvalid, "cycle")
	unknown := core.NewID()
	_, err := e.Apps.Update(ctx, a.ID, apps.AppInput{Required: &[]string{unknown}})
	wantErr(t, err, core.KindNotFound, unknown)

	got, err := e.Apps.Get(ctx, a.ID)
	if err != nil || !cmp.Equal(got.Required, []apps.Ref{{ID: b.ID, Number: b.Number}}) {
		t.Fatalf("A requires %+v, %v", got.Required, err)
	}
	l, err := e.Apps.List(ctx, apps.AppFilter{Requires: &c.ID, Page: core.Page{Limit: 10}})
	if err != nil || len(l.Items) != 1 || l.Items[0].ID != b.ID {
		t.Fatalf("requiring C: %+v, %v", l.Items, err)
	}
	if err := e.Apps.RemoveRequired(ctx, b.ID, []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.Apps.AddRequired(ctx, c.ID, []string{a.ID}); err != nil {
		t.Fatalf("no cycle once B no longer requires C: %v", err)
	}
}

// TestDeleteRefused: an application with children, or that others require,
// stays, and the refusal names them; a deleted one is gone.
func TestDeleteRefused(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a := mkApp(t, e, "A", nil)
	b := mkApp(t, e, "B", a)
	c, d := mkApp(t, e, "C", b), mkApp(t, e, "D", b)
	x := mkApp(t, e, "X", nil)
	if err := e.Apps.AddRequired(ctx, x.ID, []string{b.ID}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.Apps.Delete(ctx, b.ID), core.KindConflict, "application A.B still has children A.B.C, A.B.D and is still required by X")
	if err := e.Apps.RemoveChildren(ctx, b.ID, []string{c.ID, d.ID}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.Apps.Delete(ctx, b.ID), core.KindConflict, "application A.B is still required by X")
	if err := e.Apps.Delete(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Apps.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.Apps.Get(ctx, b.ID)
	wantErr(t, err, core.KindNotFound, b.ID)
	wantErr(t, e.Apps.Delete(ctx, b.ID), core.KindNotFound, b.ID)
}

// TestVisibility: a member sees exactly the applications a grant through its
// group gives it, with the actions the grants allow, reading its grants once
// for a page and its actions; a revocation takes effect on the next call; a
// grant on every application shows every one.
func TestVisibility(t *testing.T) {
	st := &testenv.CountingStore{Store: testenv.SQLite(t)}
	e := testenv.NewWith(t, testenv.Options{Store: st})
	ctx := e.AdminCtx()
	a := mkApp(t, e, "A", nil)
	b := mkApp(t, e, "B", a)
	other := mkApp(t, e, "O", nil)
	sam := newMember(t, e, "sam")
	g, err := e.Identity.CreateGroup(ctx, identity.GroupInput{Name: ptr("deployers")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.AddGroupMember(ctx, g.ID, sam.ID); err != nil {
		t.Fatal(err)
	}
	group := core.Grantee{Kind: core.GranteeGroup, ID: g.ID}
	view := core.Grant{Grantee: group, Action: core.ActionApplicationView, ResourceID: b.ID}
	for _, gr := range []core.Grant{view, {Grantee: group, Action: core.ActionApplicationDeploy, ResourceID: b.ID}} {
		if _, err := e.Svc.GrantPermission(ctx, gr); err != nil {
			t.Fatal(err)
		}
	}
	mctx := memberCtx(sam)
	page := func() []*apps.Application {
		t.Helper()
		l, err := e.Apps.List(mctx, apps.AppFilter{Page: core.Page{Limit: 50}})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	before := st.Reads.Load()
	items := page()
	if len(items) != 1 || items[0].ID != b.ID || items[0].FullName != "A.B" {
		t.Fatalf("sam sees %+v", items)
	}
	acts, err := e.Apps.Actions(mctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]core.Action{{core.ActionApplicationView, core.ActionApplicationDeploy}}, acts); d != "" {
		t.Errorf("sam's actions (-want +got):\n%s", d)
	}
	if n := st.Reads.Load() - before; n != 1 {
		t.Errorf("a page and its actions read the grants %d times, want 1", n)
	}
	// Actions on a bigger page still read them once.
	before = st.Reads.Load()
	if _, err := e.Apps.Actions(mctx, []*apps.Application{a, b, other, b, a}); err != nil {
		t.Fatal(err)
	}
	if n := st.Reads.Load() - before; n != 1 {
		t.Errorf("actions of five read the grants %d times", n)
	}

	if _, err := e.Apps.Get(mctx, a.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("sam reads A: %v", err)
	}
	if _, err := e.Apps.Get(mctx, b.ID); err != nil {
		t.Errorf("sam reads B: %v", err)
	}
	if _, err := e.Apps.Update(mctx, b.ID, apps.AppInput{RunUser: ptr("root")}); core.ErrorKind(err) != core.KindForbidden {
		t.Errorf("sam edits B: %v", err)
	}
	if _, err := e.Apps.Update(mctx, a.ID, apps.AppInput{RunUser: ptr("root")}); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("sam edits A: %v", err)
	}
	if _, err := e.Apps.Create(mctx, apps.AppInput{Name: ptr("S")}); core.ErrorKind(err) != core.KindForbidden {
		t.Errorf("sam creates: %v", err)
	}
	anon, err := e.Apps.List(core.WithActor(context.Background(), core.Anonymous("test", "192.0.2.1")), apps.AppFilter{Page: core.Page{Limit: 5}})
	if err != nil || len(anon.Items) != 0 {
		t.Errorf("an anonymous caller sees %+v, %v", anon.Items, err)
	}
	if _, err := e.Apps.List(mctx, apps.AppFilter{}); core.ErrorKind(err) != core.KindInvalid {
		t.Errorf("a list without a limit: %v", err)
	}

	if err := e.Svc.RevokePermission(ctx, view); err != nil {
		t.Fatal(err)
	}
	if items := page(); len(items) != 0 {
		t.Errorf("after the revocation sam sees %+v", items)
	}
	if _, err := e.Apps.Get(mctx, b.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("after the revocation sam reads B: %v", err)
	}
	every := core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: sam.ID}, Action: core.ActionApplicationView}
	if _, err := e.Svc.GrantPermission(ctx, every); err != nil {
		t.Fatal(err)
	}
	if items := page(); len(items) != 3 {
		t.Errorf("with a grant on every application sam sees %d", len(items))
	}
	// A deleted application's grants go with it.
	if err := e.Apps.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	gs, _, err := e.Svc.ListGrants(ctx, core.GrantFilter{ResourceID: &b.ID})
	if err != nil || len(gs) != 0 {
		t.Errorf("grants on a deleted application: %+v, %v", gs, err)
	}
}

// TestFilters: by the users and groups granted view, by persons, by parent.
func TestFilters(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a := mkApp(t, e, "A", nil)
	b := mkApp(t, e, "B", a)
	c := mkApp(t, e, "C", nil)
	sam, tess := newMember(t, e, "sam"), newMember(t, e, "tess")
	g, err := e.Identity.CreateGroup(ctx, identity.GroupInput{Name: ptr("ops-team")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.AddGroupMember(ctx, g.ID, sam.ID); err != nil {
		t.Fatal(err)
	}
	for _, gr := range []core.Grant{
		{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: g.ID}, Action: core.ActionApplicationView, ResourceID: b.ID},
		{Grantee: core.Grantee{Kind: core.GranteeUser, ID: sam.ID}, Action: core.ActionApplicationView, ResourceID: c.ID},
	} {
		if _, err := e.Svc.GrantPermission(ctx, gr); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Apps.AddPersons(ctx, a.ID, []apps.Person{{UserID: tess.ID, Type: "ops"}}); err != nil {
		t.Fatal(err)
	}
	names := func(f apps.AppFilter) []string {
		t.Helper()
		f.Limit = 10
		l, err := e.Apps.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, a := range l.Items {
			out = append(out, a.FullName)
		}
		return out
	}
	for _, tc := range []struct {
		f    apps.AppFilter
		want []string
	}{
		{apps.AppFilter{UserName: ptr("sam")}, []string{"A.B", "C"}},
		{apps.AppFilter{UserID: &sam.ID}, []string{"A.B", "C"}},
		{apps.AppFilter{RoleName: ptr("ops-team")}, []string{"A.B"}},
		{apps.AppFilter{UserName: ptr("nobody")}, []string{}},
		{apps.AppFilter{PersonIDs: []string{tess.ID}}, []string{"A"}},
		{apps.AppFilter{HasParent: ptr(true)}, []string{"A.B"}},
		{apps.AppFilter{HasParent: ptr(false), Page: core.Page{Sort: []string{"-name"}}}, []string{"C", "A"}},
		{apps.AppFilter{FullName: ptr("A.B")}, []string{"A.B"}},
	} {
		if got := names(tc.f); !cmp.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
	_, err = e.Apps.List(ctx, apps.AppFilter{Name: ptr(strings.Repeat("n", core.MaxFilterLen+1)), Page: core.Page{Limit: 1}})
	wantErr(t, err, core.KindInvalid, "filter")
}

// TestPersons: persons name existing users with a known type, are replaced
// as a set, listed a page at a time, and go with their user.
func TestPersons(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a := mkApp(t, e, "A", nil)
	sam, tess := newMember(t, e, "sam"), newMember(t, e, "tess")
	added, err := e.Apps.AddPersons(ctx, a.ID, []apps.Person{{UserID: sam.ID, Type: "dev"}, {UserID: tess.ID, Type: "qa"}, {UserID: sam.ID, Type: "dev"}})
	if err != nil || len(added) != 2 || added[0].Name != "sam" || added[0].UserNumber != sam.Number {
		t.Fatalf("added %+v, %v", added, err)
	}
	_, err = e.Apps.AddPersons(ctx, a.ID, []apps.Person{{UserID: sam.ID, Type: "boss"}})
	wantErr(t, err, core.KindInvalid, "dev, ops, qa, pm")
	unknown := core.NewID()
	_, err = e.Apps.AddPersons(ctx, a.ID, []apps.Person{{UserID: unknown, Type: "pm"}})
	wantErr(t, err, core.KindNotFound, unknown)

	l, err := e.Apps.ListPersons(ctx, a.ID, core.Page{Limit: 1, Offset: 1})
	if err != nil || l.Total != 2 || len(l.Items) != 1 || l.Items[0].Name != "tess" {
		t.Fatalf("persons page: %+v, %v", l, err)
	}
	up, err := e.Apps.Update(ctx, a.ID, apps.AppInput{Persons: &[]apps.Person{{UserID: tess.ID, Type: "qa"}, {UserID: tess.ID, Type: "pm"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(up.Persons); got != 2 || up.Persons[0].UserID != tess.ID || up.Persons[1].UserID != tess.ID {
		t.Fatalf("replaced persons: %+v", up.Persons)
	}
	if err := e.Apps.RemovePersons(ctx, a.ID, []string{tess.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Apps.Get(ctx, a.ID); len(got.Persons) != 0 {
		t.Fatalf("persons left: %+v", got.Persons)
	}
	if _, err := e.Apps.AddPersons(ctx, a.ID, []apps.Person{{UserID: sam.ID, Type: "ops"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.DeleteUser(ctx, sam.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Apps.Get(ctx, a.ID); len(got.Persons) != 0 {
		t.Fatalf("a deleted user's persons: %+v", got.Persons)
	}
}

// TestAudit: every change is audited with the record's name and, for an
// edit, each changed field before and after.
func TestAudit(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a, err := e.Apps.Create(ctx, apps.AppInput{Name: ptr("A"), RunUser: ptr("alice"), Type: ptr(json.RawMessage(`3`))})
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Type) != "3" {
		t.Errorf("type = %s", a.Type)
	}
	_, err = e.Apps.Update(ctx, a.ID, apps.AppInput{Type: ptr(json.RawMessage(`{"k":1}`))})
	wantErr(t, err, core.KindInvalid, "type")
	if _, err := e.Apps.Update(ctx, a.ID, apps.AppInput{RunUser: ptr("bob"), Type: ptr(json.RawMessage(` "web" `))}); err != nil {
		t.Fatal(err)
	}
	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: ptr("application.edit")})
	if err != nil || len(evs) != 1 || evs[0].TargetID != a.ID || evs[0].Actor != "admin" {
		t.Fatalf("edits audited: %+v, %v", evs, err)
	}
	var detail struct {
		Name    string
		Changes map[string]struct{ Before, After any }
	}
	if err := json.Unmarshal(evs[0].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Name != "A" || detail.Changes["run_user"].Before != "alice" || detail.Changes["run_user"].After != "bob" ||
		detail.Changes["type"].Before != 3.0 || detail.Changes["type"].After != "web" || len(detail.Changes) != 2 {
		t.Errorf("edit detail: %s", evs[0].Detail)
	}
	if err := e.Apps.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"application.create", "application.delete"} {
		evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: &action})
		if err != nil || len(evs) != 1 || !strings.Contains(string(evs[0].Detail), `"name":"A"`) {
			t.Errorf("%s audited: %+v, %v", action, evs, err)
		}
	}
}

// TestLines: product lines hold applications, each in one line at most; a
// line with applications is not deleted, and says which.
func TestLines(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	pay, err := e.Apps.CreateLine(ctx, apps.LineInput{Name: ptr("payments"), Description: ptr("money")})
	if err != nil {
		t.Fatal(err)
	}
	search, err := e.Apps.CreateLine(ctx, apps.LineInput{Name: ptr("search")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apps.CreateLine(ctx, apps.LineInput{Name: ptr("search")})
	wantErr(t, err, core.KindConflict, "product line search already exists")
	if got, err := e.Apps.GetLineByNumber(ctx, pay.Number); err != nil || got.ID != pay.ID || got.Creator != "admin" {
		t.Fatalf("line by number: %+v, %v", got, err)
	}
	a, err := e.Apps.Create(ctx, apps.AppInput{Name: ptr("A"), ProductLineID: &pay.ID})
	if err != nil || a.ProductLineID != pay.ID || a.ProductLineNumber != pay.Number {
		t.Fatalf("A in payments: %+v, %v", a, err)
	}
	b := mkApp(t, e, "B", a)
	if err := e.Apps.AddLineApps(ctx, search.ID, []string{a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	l, err := e.Apps.List(ctx, apps.AppFilter{ProductLineID: &search.ID, Page: core.Page{Limit: 10}})
	if err != nil || l.Total != 2 {
		t.Fatalf("search's applications: %+v, %v", l, err)
	}
	l, err = e.Apps.List(ctx, apps.AppFilter{ProductLineID: &pay.ID, Page: core.Page{Limit: 10}})
	if err != nil || l.Total != 0 {
		t.Fatalf("payments' applications: %+v, %v", l, err)
	}
	wantErr(t, e.Apps.DeleteLine(ctx, search.ID), core.KindConflict, "product line search still has applications A, A.B")
	if err := e.Apps.RemoveLineApps(ctx, search.ID, []string{a.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Apps.Get(ctx, a.ID); got.ProductLineID != "" {
		t.Errorf("A still in %s", got.ProductLineID)
	}
	up, err := e.Apps.UpdateLine(ctx, search.ID, apps.LineInput{Name: ptr("find")})
	if err != nil || up.Name != "find" {
		t.Fatalf("renamed line: %+v, %v", up, err)
	}
	lines, err := e.Apps.ListLines(ctx, apps.LineFilter{Page: core.Page{Limit: 10, Sort: []string{"name"}}})
	if err != nil || len(lines.Items) != 2 || lines.Items[0].Name != "find" {
		t.Fatalf("lines: %+v, %v", lines, err)
	}
	if err := e.Apps.DeleteLine(ctx, search.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Apps.GetLine(ctx, search.ID)
	wantErr(t, err, core.KindNotFound, search.ID)
	_, err = e.Apps.Update(ctx, a.ID, apps.AppInput{ProductLineID: &search.ID})
	wantErr(t, err, core.KindNotFound, search.ID)

	sam := newMember(t, e, "sam")
	if _, err := e.Apps.GetLine(memberCtx(sam), pay.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("a member reads a line: %v", err)
	}
	if _, err := e.Apps.ListLines(memberCtx(sam), apps.LineFilter{Page: core.Page{Limit: 1}}); core.ErrorKind(err) != core.KindForbidden {
		t.Errorf("a member lists lines: %v", err)
	}
	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{TargetType: ptr("product_line"), TargetID: &search.ID})
	if err != nil || len(evs) != 5 { // create, add apps, remove apps, rename, delete
		t.Errorf("the line's audit: %d events, %v", len(evs), err)
	}
}

// TestConcurrentMoves: two moves that would together make a cycle (A under
// B, B under A), run at once, cannot both happen; on PostgreSQL too, where
// transactions run side by side.
func TestConcurrentMoves(t *testing.T) {
	for name, open := range map[string]func(t testing.TB) testenv.Store{"sqlite": testenv.SQLite, "postgres": testenv.Postgres} {
		t.Run(name, func(t *testing.T) {
			e := testenv.NewWith(t, testenv.Options{Store: open(t)})
			ctx := e.AdminCtx()
			for round := range 10 {
				a := mkApp(t, e, "A"+strconv.Itoa(round), nil)
				b := mkApp(t, e, "B"+strconv.Itoa(round), nil)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				wg.Go(func() { _, errs[0] = e.Apps.Update(ctx, a.ID, apps.AppInput{ParentID: &b.ID}) })
				wg.Go(func() { _, errs[1] = e.Apps.Update(ctx, b.ID, apps.AppInput{ParentID: &a.ID}) })
				wg.Wait()
				if errs[0] == nil && errs[1] == nil {
					t.Fatalf("round %d: both moves happened", round)
				}
				for _, err := range errs {
					if err != nil && core.ErrorKind(err) != core.KindInvalid {
						t.Fatalf("round %d: %v", round, err)
					}
				}
			}
		})
	}
}
