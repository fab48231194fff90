package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/core/services"
)

// testProductLines creates, reads, renames, lists and deletes product lines,
// each numbered, names unique.
func testProductLines(t *testing.T, st Store) {
	ctx := context.Background()
	s := apps.Store(st)
	l1 := &apps.ProductLine{Name: "payments", Description: "money", Creator: "admin", CreatedAt: base}
	l2 := &apps.ProductLine{Name: "search", CreatedAt: base.Add(time.Second)}
	ok(t, s.CreateProductLine(ctx, l1))
	ok(t, s.CreateProductLine(ctx, l2))
	if l1.Number != 1 || l2.Number != 2 || !core.ValidID(l1.ID) {
		t.Fatalf("lines %+v %+v", l1, l2)
	}
	got, err := s.GetProductLine(ctx, l1.ID)
	ok(t, err)
	diff(t, l1, got)
	wantKind(t, s.CreateProductLine(ctx, &apps.ProductLine{Name: "search"}), core.KindConflict)
	id, err := s.IDByNumber(ctx, core.NumberProductLine, 2)
	ok(t, err)
	diff(t, l2.ID, id)

	l2.Name, l2.Description = "find", "renamed"
	ok(t, s.UpdateProductLine(ctx, l2))
	got, err = s.GetProductLine(ctx, l2.ID)
	ok(t, err)
	diff(t, l2, got)
	wantKind(t, s.UpdateProductLine(ctx, &apps.ProductLine{ID: l2.ID, Name: "payments"}), core.KindConflict)
	wantKind(t, s.UpdateProductLine(ctx, &apps.ProductLine{ID: "0190b6c4-6d5a-7000-8000-0000000000ff", Name: "x"}), core.KindNotFound)

	list, err := s.ListProductLines(ctx, apps.LineFilter{Page: core.Page{Limit: 10}})
	ok(t, err)
	diff(t, []*apps.ProductLine{l1, l2}, list.Items)
	list, err = s.ListProductLines(ctx, apps.LineFilter{Page: core.Page{Limit: 1, Sort: []string{"name"}}})
	ok(t, err)
	if list.Total != 2 || len(list.Items) != 1 || list.Items[0].ID != l2.ID {
		t.Fatalf("by name: %+v", list)
	}
	list, err = s.ListProductLines(ctx, apps.LineFilter{Name: ptr("payments"), Page: core.Page{Limit: 10}})
	ok(t, err)
	diff(t, []*apps.ProductLine{l1}, list.Items)

	ok(t, s.DeleteProductLine(ctx, l1.ID))
	_, err = s.GetProductLine(ctx, l1.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteProductLine(ctx, l1.ID), core.KindNotFound)
}

// appTree makes the tree A, A.B, A.B.C, A.B.D and the root X, created a
// second apart in that order, A in line.
func appTree(t *testing.T, s apps.Store, line string) map[string]*apps.Application {
	t.Helper()
	ctx := context.Background()
	byName := map[string]*apps.Application{}
	for i, n := range []struct{ name, parent string }{{"A", ""}, {"B", "A"}, {"C", "B"}, {"D", "B"}, {"X", ""}} {
		a := &apps.Application{Name: n.name, FullName: n.name, Creator: "admin", CreatedAt: base.Add(time.Duration(i) * time.Second),
			RunUser: "svc", StartupCmd: "./start " + n.name}
		if p := byName[n.parent]; p != nil {
			a.ParentID, a.FullName = p.ID, p.FullName+"."+n.name
		}
		if n.name == "A" {
			a.ProductLineID, a.Type = line, json.RawMessage(`"web"`)
		}
		ok(t, s.CreateApp(ctx, a))
		byName[n.name] = a
	}
	return byName
}

// testApps keeps applications: whole records with their numbers and sets,
// sibling names unique, a rename or a move renaming the subtree in one call,
// dependencies and the walk that finds cycles, persons, and deletes with what
// goes with them.
func testApps(t *testing.T, st Store) {
	ctx := context.Background()
	s := apps.Store(st)
	line := &apps.ProductLine{Name: "payments"}
	ok(t, s.CreateProductLine(ctx, line))
	tree := appTree(t, s, line.ID)
	a, b, c, d, x := tree["A"], tree["B"], tree["C"], tree["D"], tree["X"]
	if a.Number != 1 || x.Number != 5 || !core.ValidID(a.ID) {
		t.Fatalf("numbers: A %d, X %d", a.Number, x.Number)
	}
	id, err := s.IDByNumber(ctx, core.NumberApplication, 3)
	ok(t, err)
	diff(t, c.ID, id)

	got, err := s.GetApp(ctx, a.ID)
	ok(t, err)
	want := *a
	want.ProductLineNumber, want.HasChild = line.Number, true
	want.Children, want.Required, want.Persons = []apps.Ref{{ID: b.ID, Number: 2}}, []apps.Ref{}, []apps.Person{}
	diff(t, &want, got)
	got, err = s.GetApp(ctx, b.ID)
	ok(t, err)
	if got.ParentID != a.ID || got.ParentNumber != 1 || got.FullName != "A.B" || got.Type != nil ||
		!slices.Equal(got.Children, []apps.Ref{{ID: c.ID, Number: 3}, {ID: d.ID, Number: 4}}) {
		t.Fatalf("B = %+v", got)
	}
	_, err = s.GetApp(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
	many, err := s.GetApps(ctx, []string{c.ID, "0190b6c4-6d5a-7000-8000-0000000000ff", x.ID})
	ok(t, err)
	if len(many) != 2 {
		t.Fatalf("GetApps: %d", len(many))
	}
	wantKind(t, s.CreateApp(ctx, &apps.Application{Name: "C", FullName: "A.B.C", ParentID: b.ID}), core.KindConflict)
	wantKind(t, s.CreateApp(ctx, &apps.Application{Name: "E", FullName: "E", ParentID: "0190b6c4-6d5a-7000-8000-0000000000ff"}), core.KindNotFound)

	fullNames := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for n, r := range tree {
			g, err := s.GetApp(ctx, r.ID)
			ok(t, err)
			out[n] = g.FullName
		}
		return out
	}
	// A rename renames the subtree, and only it.
	a.Name, a.FullName, a.Description = "Z", "Z", "renamed"
	ok(t, s.UpdateApp(ctx, a, "A"))
	diff(t, map[string]string{"A": "Z", "B": "Z.B", "C": "Z.B.C", "D": "Z.B.D", "X": "X"}, fullNames())
	got, err = s.GetApp(ctx, a.ID)
	ok(t, err)
	if got.Description != "renamed" || string(got.Type) != `"web"` || got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("renamed A = %+v", got)
	}
	// A move too, with a name of many bytes.
	b.Name, b.ParentID, b.FullName = "Bé", x.ID, "X.Bé"
	ok(t, s.UpdateApp(ctx, b, "Z.B"))
	diff(t, map[string]string{"A": "Z", "B": "X.Bé", "C": "X.Bé.C", "D": "X.Bé.D", "X": "X"}, fullNames())
	b.FullName, b.Name = "Z", "Z" // a root's name taken
	b.ParentID = ""
	wantKind(t, s.UpdateApp(ctx, b, "X.Bé"), core.KindConflict)
	b.Name, b.FullName, b.ParentID = "Bé", "X.Bé", x.ID
	wantKind(t, s.UpdateApp(ctx, &apps.Application{ID: "0190b6c4-6d5a-7000-8000-0000000000ff", Name: "n", FullName: "n"}, "n"), core.KindNotFound)

	// Dependencies: C requires D and X; D requires X.
	ok(t, s.AddAppRequired(ctx, c.ID, []string{d.ID, x.ID}))
	ok(t, s.AddAppRequired(ctx, c.ID, []string{d.ID}))
	ok(t, s.AddAppRequired(ctx, d.ID, []string{x.ID}))
	got, err = s.GetApp(ctx, c.ID)
	ok(t, err)
	diff(t, []apps.Ref{{ID: d.ID, Number: 4}, {ID: x.ID, Number: 5}}, got.Required)
	wantKind(t, s.AddAppRequired(ctx, c.ID, []string{"0190b6c4-6d5a-7000-8000-0000000000ff"}), core.KindNotFound)
	req, err := s.AppsRequiring(ctx, x.ID, []string{a.ID, c.ID, d.ID, x.ID})
	ok(t, err)
	wantIDs := []string{c.ID, d.ID, x.ID}
	slices.Sort(wantIDs)
	diff(t, wantIDs, req)
	req, err = s.AppsRequiring(ctx, c.ID, []string{d.ID, x.ID})
	ok(t, err)
	diff(t, []string{}, req)
	ok(t, s.RemoveAppRequired(ctx, c.ID, []string{x.ID}))
	got, err = s.GetApp(ctx, c.ID)
	ok(t, err)
	diff(t, []apps.Ref{{ID: d.ID, Number: 4}}, got.Required)

	// Persons, with their users' fields, by user name.
	uma, bob := newUser(t, st, "uma"), newUser(t, st, "bob")
	ok(t, s.AddAppPersons(ctx, c.ID, []apps.Person{{UserID: uma.ID, Type: "dev"}, {UserID: uma.ID, Type: "ops"}, {UserID: bob.ID, Type: "qa"}}))
	ok(t, s.AddAppPersons(ctx, c.ID, []apps.Person{{UserID: bob.ID, Type: "qa"}}))
	wantKind(t, s.AddAppPersons(ctx, c.ID, []apps.Person{{UserID: "0190b6c4-6d5a-7000-8000-0000000000ff", Type: "qa"}}), core.KindNotFound)
	person := func(u *core.User, typ string) apps.Person {
		return apps.Person{UserID: u.ID, UserNumber: u.Number, Type: typ, Name: u.Name, Email: u.Email, Phone: u.Phone}
	}
	got, err = s.GetApp(ctx, c.ID)
	ok(t, err)
	diff(t, []apps.Person{person(bob, "qa"), person(uma, "dev"), person(uma, "ops")}, got.Persons)
	ps, total, err := s.ListAppPersons(ctx, c.ID, core.Page{Limit: 2, Offset: 1})
	ok(t, err)
	diff(t, []apps.Person{person(uma, "dev"), person(uma, "ops")}, ps)
	if total != 3 {
		t.Fatalf("persons total %d", total)
	}
	_, _, err = s.ListAppPersons(ctx, c.ID, core.Page{Sort: []string{"type"}})
	wantKind(t, err, core.KindInvalid)
	ok(t, s.RemoveAppPersons(ctx, c.ID, []apps.Person{{UserID: uma.ID, Type: "ops"}}))
	ps, _, err = s.ListAppPersons(ctx, c.ID, core.Page{})
	ok(t, err)
	diff(t, []apps.Person{person(bob, "qa"), person(uma, "dev")}, ps)
	ok(t, s.RemoveAppPersons(ctx, c.ID, []apps.Person{{UserID: uma.ID}}))
	ok(t, s.AddAppPersons(ctx, d.ID, []apps.Person{{UserID: bob.ID, Type: "pm"}}))
	// A deleted user's persons go with it.
	ok(t, st.DeleteUser(ctx, bob.ID))
	ps, total, err = s.ListAppPersons(ctx, c.ID, core.Page{})
	ok(t, err)
	if len(ps) != 0 || total != 0 {
		t.Fatalf("persons of a deleted user: %+v", ps)
	}

	// Lines.
	ok(t, s.SetAppsProductLine(ctx, []string{c.ID, x.ID}, line.ID))
	wantKind(t, s.SetAppsProductLine(ctx, []string{c.ID}, "0190b6c4-6d5a-7000-8000-0000000000ff"), core.KindNotFound)
	wantKind(t, s.DeleteProductLine(ctx, line.ID), core.KindConflict)
	ok(t, s.SetAppsProductLine(ctx, []string{a.ID, c.ID, x.ID}, ""))
	got, err = s.GetApp(ctx, a.ID)
	ok(t, err)
	if got.ProductLineID != "" || got.ProductLineNumber != 0 {
		t.Fatalf("A out of its line: %+v", got)
	}

	// Deletes: refused while children or dependants hold the application;
	// a leaf goes with its links, persons and the application grants on it.
	wantKind(t, s.DeleteApp(ctx, x.ID), core.KindConflict)
	uma2 := newUser(t, st, "uma2")
	ok(t, s.AddAppPersons(ctx, c.ID, []apps.Person{{UserID: uma2.ID, Type: "dev"}}))
	for _, action := range []core.Action{core.ActionApplicationView, core.ActionApplicationDeploy} {
		ok(t, second(st.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: uma2.ID}, Action: action, ResourceID: c.ID})))
	}
	ok(t, second(st.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: uma2.ID}, Action: core.ActionServerView, ResourceID: c.ID})))
	ok(t, s.DeleteApp(ctx, c.ID))
	_, err = s.GetApp(ctx, c.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteApp(ctx, c.ID), core.KindNotFound)
	grants, _, err := st.ListGrants(ctx, core.GrantFilter{ResourceID: &c.ID})
	ok(t, err)
	if len(grants) != 1 || grants[0].Action != core.ActionServerView {
		t.Fatalf("grants left on the deleted application: %+v", grants)
	}
	ps, _, err = s.ListAppPersons(ctx, c.ID, core.Page{})
	ok(t, err)
	if len(ps) != 0 {
		t.Fatalf("persons of a deleted application: %+v", ps)
	}
	got, err = s.GetApp(ctx, b.ID)
	ok(t, err)
	diff(t, []apps.Ref{{ID: d.ID, Number: 4}}, got.Children)

	// Written in a transaction, the subtree's rename commits with it; the
	// lock is taken in one and outside one alike, and numbers go on.
	ok(t, s.LockApps(ctx))
	ok(t, st.InTx(ctx, func(q services.Queries) error {
		if err := q.LockApps(ctx); err != nil {
			return err
		}
		b.Name, b.FullName = "B", "X.B"
		return q.UpdateApp(ctx, b, "X.Bé")
	}))
	next := &apps.Application{Name: "N", FullName: "N"}
	ok(t, s.CreateApp(ctx, next))
	if next.Number <= x.Number { // failed creates above took numbers too
		t.Fatalf("numbered %d after the lock, %d before it", next.Number, x.Number)
	}
	got, err = s.GetApp(ctx, d.ID)
	ok(t, err)
	diff(t, "X.B.D", got.FullName)
}

// testAppListing lists applications by every filter, order and page, the
// visibility of grants (a user's own, its groups', on every application)
// included, and follows the tables it reads: a change to any of them
// changes the stamp.
func testAppListing(t *testing.T, st Store) {
	ctx := context.Background()
	s := apps.Store(st)
	line := &apps.ProductLine{Name: "payments"}
	ok(t, s.CreateProductLine(ctx, line))
	tree := appTree(t, s, line.ID)
	a, b, c, d, x := tree["A"], tree["B"], tree["C"], tree["D"], tree["X"]
	ok(t, s.AddAppRequired(ctx, c.ID, []string{d.ID, x.ID}))
	uma, vic, wes := newUser(t, st, "uma"), newUser(t, st, "vic"), newUser(t, st, "wes")
	ok(t, s.AddAppPersons(ctx, b.ID, []apps.Person{{UserID: uma.ID, Type: "dev"}}))
	ok(t, s.AddAppPersons(ctx, x.ID, []apps.Person{{UserID: vic.ID, Type: "ops"}}))
	devs := &core.Group{Name: "devs"}
	ok(t, st.CreateGroup(ctx, devs))
	ok(t, st.AddGroupMember(ctx, devs.ID, uma.ID))
	grant := func(g core.Grantee, action core.Action, resource string) {
		t.Helper()
		ok(t, second(st.AddGrant(ctx, &core.Grant{Grantee: g, Action: action, ResourceID: resource})))
	}
	grant(core.Grantee{Kind: core.GranteeUser, ID: uma.ID}, core.ActionApplicationView, c.ID)
	grant(core.Grantee{Kind: core.GranteeGroup, ID: devs.ID}, core.ActionApplicationView, d.ID)
	grant(core.Grantee{Kind: core.GranteeGroup, ID: devs.ID}, core.ActionApplicationDeploy, a.ID) // not view
	grant(core.Grantee{Kind: core.GranteeUser, ID: vic.ID}, core.ActionApplicationView, "")       // every one

	names := func(f apps.AppFilter) ([]string, int) {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 10
		}
		l, err := s.ListApps(ctx, f)
		ok(t, err)
		out := []string{}
		for _, a := range l.Items {
			want := tree[a.Name]
			if want == nil || a.ID != want.ID || a.FullName != want.FullName {
				t.Fatalf("row %+v", a)
			}
			out = append(out, a.FullName)
		}
		return out, l.Total
	}
	all := []string{"A", "A.B", "A.B.C", "A.B.D", "X"}
	for _, tc := range []struct {
		name string
		f    apps.AppFilter
		want []string
	}{
		{"all", apps.AppFilter{}, all},
		{"name", apps.AppFilter{Name: ptr("C")}, []string{"A.B.C"}},
		{"full name", apps.AppFilter{FullName: ptr("A.B.D")}, []string{"A.B.D"}},
		{"roots", apps.AppFilter{HasParent: ptr(false)}, []string{"A", "X"}},
		{"not roots", apps.AppFilter{HasParent: ptr(true)}, []string{"A.B", "A.B.C", "A.B.D"}},
		{"children", apps.AppFilter{ParentID: &b.ID}, []string{"A.B.C", "A.B.D"}},
		{"required by C", apps.AppFilter{RequiredBy: &c.ID}, []string{"A.B.D", "X"}},
		{"requiring X", apps.AppFilter{Requires: &x.ID}, []string{"A.B.C"}},
		{"line", apps.AppFilter{ProductLineID: &line.ID}, []string{"A"}},
		{"no line", apps.AppFilter{ProductLineID: ptr("")}, []string{"A.B", "A.B.C", "A.B.D", "X"}},
		{"persons", apps.AppFilter{PersonIDs: []string{uma.ID, vic.ID}}, []string{"A.B", "X"}},
		{"no persons", apps.AppFilter{PersonIDs: []string{}}, []string{}},
		{"user id", apps.AppFilter{UserID: &uma.ID}, []string{"A.B.C", "A.B.D"}},
		{"user name", apps.AppFilter{UserName: ptr("uma")}, []string{"A.B.C", "A.B.D"}},
		{"user with a type-wide grant", apps.AppFilter{UserName: ptr("vic")}, all},
		{"user without grants", apps.AppFilter{UserID: &wes.ID}, []string{}},
		{"unknown user", apps.AppFilter{UserName: ptr("nobody")}, []string{}},
		{"role", apps.AppFilter{RoleName: ptr("devs")}, []string{"A.B.D"}},
		{"unknown role", apps.AppFilter{RoleName: ptr("nobody")}, []string{}},
		{"visible to uma", apps.AppFilter{VisibleTo: &uma.ID}, []string{"A.B.C", "A.B.D"}},
		{"visible to vic", apps.AppFilter{VisibleTo: &vic.ID, HasParent: ptr(false)}, []string{"A", "X"}},
		{"visible to wes", apps.AppFilter{VisibleTo: &wes.ID}, []string{}},
		{"by name, descending", apps.AppFilter{Page: core.Page{Sort: []string{"-name"}}}, []string{"X", "A.B.D", "A.B.C", "A.B", "A"}},
		{"by full name", apps.AppFilter{Page: core.Page{Sort: []string{"full_name"}}}, all},
		{"newest first", apps.AppFilter{Page: core.Page{Sort: []string{"-created_at"}}}, []string{"X", "A.B.D", "A.B.C", "A.B", "A"}},
	} {
		got, total := names(tc.f)
		if total != len(tc.want) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(tc.want))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	got, total := names(apps.AppFilter{Page: core.Page{Limit: 2, Offset: 2}})
	if total != 5 || !slices.Equal(got, []string{"A.B.C", "A.B.D"}) {
		t.Fatalf("page 2: %v of %d", got, total)
	}
	l, err := s.ListApps(ctx, apps.AppFilter{ParentID: &b.ID, Page: core.Page{Limit: 10}})
	ok(t, err)
	if cc := l.Items[0]; cc.ParentNumber != b.Number || !slices.Equal(cc.Required, []apps.Ref{{ID: d.ID, Number: d.Number}, {ID: x.ID, Number: x.Number}}) || cc.HasChild {
		t.Fatalf("a listed record is not whole: %+v", cc)
	}
	_, err = s.ListApps(ctx, apps.AppFilter{Page: core.Page{Sort: []string{"run_user"}}})
	wantKind(t, err, core.KindInvalid)

	// Every table the list reads moves its stamp.
	stamp := func() core.Stamp {
		t.Helper()
		l, err := s.ListApps(ctx, apps.AppFilter{VisibleTo: &uma.ID, Page: core.Page{Limit: 10}})
		ok(t, err)
		return l.Stamp
	}
	for name, change := range map[string]func(){
		"a person":     func() { ok(t, s.AddAppPersons(ctx, c.ID, []apps.Person{{UserID: wes.ID, Type: "qa"}})) },
		"a dependency": func() { ok(t, s.AddAppRequired(ctx, d.ID, []string{x.ID})) },
		"a grant":      func() { grant(core.Grantee{Kind: core.GranteeUser, ID: uma.ID}, core.ActionApplicationView, x.ID) },
		"a member":     func() { ok(t, st.AddGroupMember(ctx, devs.ID, wes.ID)) },
		"a line":       func() { ok(t, s.SetAppsProductLine(ctx, []string{x.ID}, line.ID)) },
		"a user": func() {
			_, err := st.UpdateUser(ctx, wes.ID, core.UserUpdate{Email: ptr("wes@example.com")})
			ok(t, err)
		},
		"a new app":     func() { ok(t, s.CreateApp(ctx, &apps.Application{Name: "Y", FullName: "Y"})) },
		"a line's name": func() { line.Name = "pay"; ok(t, s.UpdateProductLine(ctx, line)) },
	} {
		before := stamp()
		if before == "" {
			t.Skip("the store does not stamp lists")
		}
		change()
		if stamp() == before {
			t.Errorf("%s changed, the stamp did not", name)
		}
	}
	l, err = s.ListApps(ctx, apps.AppFilter{VisibleTo: &uma.ID, Page: core.Page{Limit: 10, Since: stamp()}})
	ok(t, err)
	if !l.Unchanged {
		t.Errorf("an unchanged list is not told so")
	}
}

// second is the error of a call that also answers a value.
func second[T any](_ T, err error) error { return err }

// testAppPages reads a member's list of applications a page at a time, deep
// pages included (found from kept starts): every page is the slice of the
// whole list at its offset, in every order an index gives.
func testAppPages(t *testing.T, st Store) {
	ctx := context.Background()
	s := apps.Store(st)
	member := newUser(t, st, "pia")
	var want []string
	ok(t, st.InTx(ctx, func(q services.Queries) error {
		for i := range 300 {
			a := &apps.Application{Name: fmt.Sprintf("app-%03d", (i*7)%300), CreatedAt: base.Add(time.Duration(i%50) * time.Second)}
			a.FullName = a.Name
			if err := q.CreateApp(ctx, a); err != nil {
				return err
			}
			if i%3 != 0 {
				continue
			}
			if _, err := q.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: member.ID},
				Action: core.ActionApplicationView, ResourceID: a.ID}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, sort := range [][]string{nil, {"name"}, {"-full_name"}} {
		f := apps.AppFilter{VisibleTo: &member.ID, Page: core.Page{Limit: 1000, Sort: sort}}
		whole, err := s.ListApps(ctx, f)
		ok(t, err)
		if whole.Total != 100 || len(whole.Items) != 100 {
			t.Fatalf("%v: %d of %d", sort, len(whole.Items), whole.Total)
		}
		want = ids(whole.Items, func(a *apps.Application) string { return a.ID })
		for _, off := range []int{0, 30, 63, 64, 65, 99, 128, 150} {
			f.Offset, f.Limit = off, 7
			page, err := s.ListApps(ctx, f)
			ok(t, err)
			from := min(off, len(want))
			got := ids(page.Items, func(a *apps.Application) string { return a.ID })
			if page.Total != 100 || !slices.Equal(got, want[from:min(off+7, len(want))]) {
				t.Fatalf("%v at %d: %d rows of %d, not the whole list's", sort, off, len(got), page.Total)
			}
		}
	}
}
