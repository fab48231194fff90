// Package storetest is the contract every Store implementation must meet:
// one suite, run by each store's tests (SQLite and PostgreSQL), so that they
// behave the same.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/services"
	"hostdeck/task"
)

// Store is what hostdeck asks of a store: every capability's queries
// (services.Store), the task runner's (task.Store), the task counts the
// metrics export, one transaction over all of them with its queries typed,
// and closing. Run checks an adapter against it.
type Store interface {
	services.Store
	task.Store
	// CountTasksByStatus counts tasks per status.
	CountTasksByStatus(ctx context.Context) (map[core.TaskStatus]int, error)
	// Plain projects and domains, which no use case creates yet (pools and
	// customers' projects have their own): tests and seeds make them.
	CreateProject(ctx context.Context, p *core.Project) error
	CreateDomain(ctx context.Context, d *core.Domain) error // Conflict on a duplicate name
	// InTx runs fn in one transaction that commits when fn returns nil and
	// rolls back otherwise.
	InTx(ctx context.Context, fn func(q services.Queries) error) error
	Close() error
}

// Opener returns a new, empty store; it closes the store through t.Cleanup.
type Opener func(t testing.TB) Store

// Run runs the contract suite on stores made by open. Every subtest gets a store
// of its own.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Servers", testServers},
		{"ServerListing", testServerListing},
		{"Instances", testInstances},
		{"InstancesAfter", testInstancesAfter},
		{"Clients", testClients},
		{"ClientListing", testClientListing},
		{"ClientUpdate", testClientUpdate},
		{"ExpireChanges", testExpireChanges},
		{"CountClientsByServer", testCountClientsByServer},
		{"ServerLoad", testServerLoad},
		{"Users", testUsers},
		{"Identity", testIdentity},
		{"Numbers", testNumbers},
		{"AuditNumbers", testAuditNumbers},
		{"HostRecords", testHostRecords},
		{"TokenKinds", testTokenKinds},
		{"Keys", testKeys},
		{"UserFilters", testUserFilters},
		{"GroupEdits", testGroupEdits},
		{"ProjectsAndImages", testProjectsAndImages},
		{"Catalogue", testCatalogue},
		{"Pools", testPools},
		{"Machines", testMachines},
		{"Sessions", testSessions},
		{"FloatingIPs", testFloatingIPs},
		{"VolumeAssignments", testVolumeAssignments},
		{"Profiles", testProfiles},
		{"CustomerProjects", testCustomerProjects},
		{"Coupons", testCoupons},
		{"Links", testLinks},
		{"ProductLines", testProductLines},
		{"Apps", testApps},
		{"AppListing", testAppListing},
		{"AppPages", testAppPages},
		{"ProjectLimitsAndUsage", testProjectLimitsAndUsage},
		{"TaskCreate", testTaskCreate},
		{"TaskClaim", testTaskClaim},
		{"TaskLease", testTaskLease},
		{"TaskFinish", testTaskFinish},
		{"TaskFinishMany", testTaskFinishMany},
		{"TaskCancel", testTaskCancel},
		{"TaskRelease", testTaskRelease},
		{"TaskListAndCount", testTaskListAndCount},
		{"ConcurrentClaims", testConcurrentClaims},
		{"Audit", testAudit},
		{"AuditFilters", testAuditFilters},
		{"InTx", testInTx},
		{"InTxConcurrent", testInTxConcurrent},
		{"InstanceNumbers", testInstanceNumbers},
		{"NumberedInstances", testNumberedInstances},
		{"Grants", testGrants},
		{"GrantSets", testGrantSets},
		{"UserAccess", testUserAccess},
		{"ListPages", testListPages},
		{"ListStamps", testListStamps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func ptr[T any](v T) *T { return &v }

// base is a fixed moment the tests count from, with microseconds so that
// precision is checked.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantKind(t testing.TB, err error, kind core.Kind) {
	t.Helper()
	if got := core.ErrorKind(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
}

func diff(t testing.TB, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("mismatch (-want +got):\n%s", d)
	}
}

// ids returns the ids of recs, for comparing list order.
func ids[T any](recs []T, id func(T) string) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, id(r))
	}
	return out
}

func serverID(s *core.Server) string { return s.ID }
func clientID(c *core.Client) string { return c.ID }
func taskID(t *core.Task) string     { return t.ID }

func newServer(t testing.TB, s Store, name string, mod func(*core.Server)) *core.Server {
	t.Helper()
	srv := &core.Server{Name: name, Address: "unix:///var/run/" + name + ".sock", Runtime: "sim", Capacity: 10,
		Location: "fra", Status: core.ServerActive}
	if mod != nil {
		mod(srv)
	}
	ok(t, s.CreateServer(context.Background(), srv))
	return srv
}

func newClient(t testing.TB, s Store, name string, mod func(*core.Client)) *core.Client {
	t.Helper()
	c := &core.Client{Name: name, Email: name + "@example.com", Lang: "en", Status: core.ClientActive}
	if mod != nil {
		mod(c)
	}
	ok(t, s.CreateClient(context.Background(), c))
	return c
}

func newTask(t testing.TB, s Store, mod func(*core.Task)) *core.Task {
	t.Helper()
	tk := &core.Task{Kind: "client.create", Payload: json.RawMessage(`{"n":1}`), MaxAttempts: 5, RunAt: base, Creator: "alice"}
	if mod != nil {
		mod(tk)
	}
	ok(t, s.CreateTask(context.Background(), tk))
	return tk
}

func testServers(t *testing.T, s Store) {
	ctx := context.Background()
	seen := base.Add(-time.Minute)
	srv := newServer(t, s, "alpha", func(v *core.Server) { v.LastSeenAt = &seen })
	if srv.ID == "" || !core.ValidID(srv.ID) || srv.CreatedAt.IsZero() || srv.UpdatedAt.IsZero() {
		t.Fatalf("create did not fill id and times: %+v", srv)
	}
	got, err := s.GetServer(ctx, srv.ID)
	ok(t, err)
	diff(t, srv, got)

	// A given id and times are kept, times at microsecond precision in UTC.
	given := &core.Server{ID: "0190b6c4-6d5a-7000-8000-000000000001", Name: "given", Status: core.ServerDisabled,
		CreatedAt: base.In(time.FixedZone("x", 3600)).Add(123 * time.Nanosecond)}
	ok(t, s.CreateServer(ctx, given))
	got, err = s.GetServer(ctx, given.ID)
	ok(t, err)
	if !got.CreatedAt.Equal(base) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want %v in UTC", got.CreatedAt, base)
	}
	diff(t, given, got)

	wantKind(t, s.CreateServer(ctx, &core.Server{Name: "alpha", Status: core.ServerActive}), core.KindConflict)
	_, err = s.GetServer(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)

	up, err := s.UpdateServer(ctx, srv.ID, core.ServerUpdate{
		Capacity: ptr(20), Status: ptr(core.ServerDisabled), LastSeenAt: ptr(base), Location: ptr("ams"),
	})
	ok(t, err)
	want := *srv
	want.Capacity, want.Status, want.LastSeenAt, want.Location, want.UpdatedAt = 20, core.ServerDisabled, &base, "ams", up.UpdatedAt
	diff(t, &want, up)
	got, err = s.GetServer(ctx, srv.ID)
	ok(t, err)
	diff(t, up, got)

	_, err = s.UpdateServer(ctx, srv.ID, core.ServerUpdate{Name: ptr("given")})
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdateServer(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", core.ServerUpdate{Capacity: ptr(1)})
	wantKind(t, err, core.KindNotFound)

	ok(t, s.DeleteServer(ctx, srv.ID))
	_, err = s.GetServer(ctx, srv.ID)
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.DeleteServer(ctx, srv.ID), core.KindNotFound)

	// LockServers works inside a transaction and outside one.
	ok(t, s.InTx(ctx, func(q services.Queries) error { return q.LockServers(ctx) }))
	ok(t, s.LockServers(ctx))
}

func testServerListing(t *testing.T, s Store) {
	ctx := context.Background()
	var all []*core.Server
	for i, name := range []string{"delta", "alpha", "echo", "charlie", "bravo"} {
		all = append(all, newServer(t, s, name, func(v *core.Server) {
			if i%2 == 1 {
				v.Status, v.Runtime = core.ServerDisabled, "docker"
			}
		}))
	}
	got, total, err := s.ListServers(ctx, core.ServerFilter{})
	ok(t, err)
	diff(t, ids(all, serverID), ids(got, serverID))
	if total != 5 {
		t.Fatalf("total = %d, want 5", total)
	}
	diff(t, all[0], got[0])

	got, total, err = s.ListServers(ctx, core.ServerFilter{Status: ptr(core.ServerDisabled)})
	ok(t, err)
	diff(t, []string{all[1].ID, all[3].ID}, ids(got, serverID))
	if total != 2 {
		t.Fatalf("total = %d, want 2", total)
	}
	got, _, err = s.ListServers(ctx, core.ServerFilter{Runtime: ptr("sim"), Status: ptr(core.ServerActive)})
	ok(t, err)
	diff(t, []string{all[0].ID, all[2].ID, all[4].ID}, ids(got, serverID))
	got, _, err = s.ListServers(ctx, core.ServerFilter{Runtime: ptr("none")})
	ok(t, err)
	if len(got) != 0 {
		t.Fatalf("got %d servers, want none", len(got))
	}

	got, total, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Sort: []string{"-name"}, Offset: 1, Limit: 2}})
	ok(t, err)
	diff(t, []string{"delta", "charlie"}, ids(got, func(v *core.Server) string { return v.Name }))
	if total != 5 {
		t.Fatalf("total = %d, want 5", total)
	}
	got, _, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Sort: []string{"status", "name"}}})
	ok(t, err)
	diff(t, []string{"bravo", "delta", "echo", "alpha", "charlie"}, ids(got, func(v *core.Server) string { return v.Name }))

	// A page past the end is empty but still tells the total.
	got, total, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Offset: 10, Limit: 2}})
	ok(t, err)
	if len(got) != 0 || total != 5 {
		t.Fatalf("past the end: %d servers, total %d; want 0, 5", len(got), total)
	}
	got, total, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Offset: 3}})
	ok(t, err)
	if len(got) != 2 || total != 5 {
		t.Fatalf("offset without limit: %d servers, total %d; want 2, 5", len(got), total)
	}

	_, _, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Sort: []string{"password"}}})
	wantKind(t, err, core.KindInvalid)
	if f := core.ErrorField(err); f != "sort" {
		t.Fatalf("field = %q, want sort", f)
	}
	_, _, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Sort: []string{"name; DROP TABLE servers"}}})
	wantKind(t, err, core.KindInvalid)
	_, _, err = s.ListServers(ctx, core.ServerFilter{Page: core.Page{Limit: -1}})
	wantKind(t, err, core.KindInvalid)
}

func testInstances(t *testing.T, s Store) {
	ctx := context.Background()
	in := &core.Instance{Name: "c-alpha", ServerID: "srv-1", ProjectID: "prj-1", ImageID: "img-1", State: core.StateBuilding,
		Spec: core.InstanceSpec{Name: "c-alpha", Image: "alfa:1", Cmd: []string{"/bin/alfa", "-v"},
			Env: map[string]string{"A": "1"}, Ports: []core.Port{{Container: 8080}},
			Volumes: []core.Volume{{Name: "c-alpha-data", Path: "/data"}}, Labels: map[string]string{core.LabelInstance: "x"},
			HealthPath: "/health"}}
	ok(t, s.CreateInstance(ctx, in))
	got, err := s.GetInstance(ctx, in.ID)
	ok(t, err)
	diff(t, in, got)
	wantKind(t, s.CreateInstance(ctx, &core.Instance{Name: "c-alpha", State: core.StateBuilding}), core.KindConflict)
	_, err = s.GetInstance(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)

	other := &core.Instance{Name: "c-bravo", ServerID: "srv-2", State: core.StateActive}
	ok(t, s.CreateInstance(ctx, other))

	spec := in.Spec
	spec.Image = "alfa:2"
	up, err := s.UpdateInstance(ctx, in.ID, core.InstanceUpdate{State: ptr(core.StateActive), RuntimeRef: ptr("abc123"),
		Address: ptr("10.0.0.2"), URL: ptr("https://alpha.example.com"), Spec: &spec})
	ok(t, err)
	want := *in
	want.State, want.RuntimeRef, want.Address, want.URL, want.Spec, want.UpdatedAt =
		core.StateActive, "abc123", "10.0.0.2", "https://alpha.example.com", spec, up.UpdatedAt
	diff(t, &want, up)
	_, err = s.UpdateInstance(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", core.InstanceUpdate{State: ptr(core.StateError)})
	wantKind(t, err, core.KindNotFound)

	for _, c := range []struct {
		f    core.InstanceFilter
		want []string
	}{
		{core.InstanceFilter{}, []string{in.ID, other.ID}},
		{core.InstanceFilter{ServerID: ptr("srv-2")}, []string{other.ID}},
		{core.InstanceFilter{ProjectID: ptr("prj-1")}, []string{in.ID}},
		{core.InstanceFilter{State: ptr(core.StateActive)}, []string{in.ID, other.ID}},
		{core.InstanceFilter{State: ptr(core.StateDeleted)}, []string{}},
		{core.InstanceFilter{Page: core.Page{Sort: []string{"-name"}}}, []string{other.ID, in.ID}},
	} {
		got, total, err := s.ListInstances(ctx, c.f)
		ok(t, err)
		diff(t, c.want, ids(got, func(v *core.Instance) string { return v.ID }))
		if total != len(c.want) {
			t.Fatalf("%+v: total = %d, want %d", c.f, total, len(c.want))
		}
	}
	_, _, err = s.ListInstances(ctx, core.InstanceFilter{Page: core.Page{Sort: []string{"spec"}}})
	wantKind(t, err, core.KindInvalid)
}

func testClients(t *testing.T, s Store) {
	ctx := context.Background()
	exp := date(2026, 6, 30)
	c := newClient(t, s, "acme", func(c *core.Client) {
		c.Phone, c.ServerID, c.InstanceID, c.Demo, c.URL = "+100", "srv-1", "ins-1", true, "https://acme.example.com"
		c.ExpireDate, c.OwnerLogin, c.OwnerPasswordEnc = &exp, "admin", []byte{0, 1, 2, 0xff}
	})
	got, err := s.GetClient(ctx, c.ID)
	ok(t, err)
	diff(t, c, got)

	// An expiry date keeps its calendar date at UTC midnight.
	local := time.Date(2026, 7, 1, 0, 0, 0, 0, time.FixedZone("MSK", 3*3600))
	c2 := newClient(t, s, "zeta", func(c *core.Client) { c.ExpireDate = &local })
	got, err = s.GetClient(ctx, c2.ID)
	ok(t, err)
	diff(t, ptr(date(2026, 7, 1)), got.ExpireDate)
	if got.OwnerPasswordEnc != nil || got.Demo {
		t.Fatalf("unset fields came back set: %+v", got)
	}

	wantKind(t, s.CreateClient(ctx, &core.Client{Name: "acme", Status: core.ClientActive}), core.KindConflict)
	_, err = s.GetClient(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
}

func testClientListing(t *testing.T, s Store) {
	ctx := context.Background()
	mk := func(name, email, server string, status core.ClientStatus, exp *time.Time) *core.Client {
		return newClient(t, s, name, func(c *core.Client) {
			c.Email, c.ServerID, c.Status, c.ExpireDate = email, server, status, exp
		})
	}
	a := mk("Acme_Labs", "ops@acme.io", "s1", core.ClientActive, ptr(date(2026, 5, 1)))
	b := mk("acmexlabs", "boss@ACME.io", "s2", core.ClientActive, ptr(date(2026, 6, 1)))
	c := mk("globex", "it@globex.com", "s1", core.ClientCreating, nil)
	d := mk("initech", "hr@initech.com", "s1", core.ClientDeleted, ptr(date(2026, 4, 1)))
	e := mk("100% juice", "x@juice.org", "s2", core.ClientFailed, ptr(date(2026, 5, 2)))

	cases := []struct {
		name string
		f    core.ClientFilter
		want []*core.Client
	}{
		{"default leaves deleted out", core.ClientFilter{}, []*core.Client{a, b, c, e}},
		{"status deleted", core.ClientFilter{Status: ptr(core.ClientDeleted)}, []*core.Client{d}},
		{"status active", core.ClientFilter{Status: ptr(core.ClientActive)}, []*core.Client{a, b}},
		{"server", core.ClientFilter{ServerID: ptr("s1")}, []*core.Client{a, c}},
		{"name substring any case", core.ClientFilter{Name: ptr("ACME")}, []*core.Client{a, b}},
		{"underscore is literal", core.ClientFilter{Name: ptr("e_l")}, []*core.Client{a}},
		{"percent is literal", core.ClientFilter{Name: ptr("0%")}, []*core.Client{e}},
		{"percent alone", core.ClientFilter{Name: ptr("%")}, []*core.Client{e}},
		{"email any case", core.ClientFilter{Email: ptr("acme.IO")}, []*core.Client{a, b}},
		{"expiring on or before", core.ClientFilter{ExpiringBefore: ptr(date(2026, 5, 2))}, []*core.Client{a, e}},
		{"expiring, deleted asked for", core.ClientFilter{ExpiringBefore: ptr(date(2026, 5, 2)), Status: ptr(core.ClientDeleted)}, []*core.Client{d}},
		{"combined", core.ClientFilter{ServerID: ptr("s2"), Name: ptr("acme")}, []*core.Client{b}},
		{"sort by expiry, none last", core.ClientFilter{Page: core.Page{Sort: []string{"expire_date"}}}, []*core.Client{a, e, b, c}},
		{"sort by name desc", core.ClientFilter{Page: core.Page{Sort: []string{"-name"}}}, []*core.Client{c, b, a, e}},
	}
	// Pages past the middle are read from the end: the order, NULLs included, must
	// not change.
	for _, pc := range []struct {
		p    core.Page
		want []*core.Client
	}{
		{core.Page{Sort: []string{"expire_date"}, Offset: 2, Limit: 2}, []*core.Client{b, c}},
		{core.Page{Sort: []string{"expire_date"}, Offset: 3, Limit: 5}, []*core.Client{c}},
		{core.Page{Sort: []string{"-expire_date"}, Offset: 3, Limit: 1}, []*core.Client{c}},
		{core.Page{Sort: []string{"-expire_date"}, Offset: 2, Limit: 2}, []*core.Client{a, c}},
		{core.Page{Offset: 3, Limit: 1}, []*core.Client{e}},
		{core.Page{Offset: 1}, []*core.Client{b, c, e}},
		{core.Page{Offset: 4, Limit: 1}, []*core.Client{}},
	} {
		got, total, err := listClients(ctx, s, core.ClientFilter{Page: pc.p})
		ok(t, err)
		if d := cmp.Diff(ids(pc.want, clientID), ids(got, clientID)); d != "" || total != 4 {
			t.Errorf("%+v: total %d, mismatch (-want +got):\n%s", pc.p, total, d)
		}
	}
	for _, tc := range cases {
		got, total, err := listClients(ctx, s, tc.f)
		ok(t, err)
		if d := cmp.Diff(ids(tc.want, clientID), ids(got, clientID)); d != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tc.name, d)
		}
		if total != len(tc.want) {
			t.Errorf("%s: total = %d, want %d", tc.name, total, len(tc.want))
		}
	}
	got, total, err := listClients(ctx, s, core.ClientFilter{Page: core.Page{Offset: 1, Limit: 2}})
	ok(t, err)
	diff(t, []*core.Client{b, c}, got)
	if total != 4 {
		t.Fatalf("total = %d, want 4", total)
	}
	_, _, err = listClients(ctx, s, core.ClientFilter{Page: core.Page{Sort: []string{"owner_password_enc"}}})
	wantKind(t, err, core.KindInvalid)
	// Substring filters are bounded here too (core checks first): SQLite fails a
	// pattern over 50,000 bytes.
	_, _, err = listClients(ctx, s, core.ClientFilter{Email: ptr(strings.Repeat("a", 50_000))})
	wantKind(t, err, core.KindInvalid)
	_, _, err = listClients(ctx, s, core.ClientFilter{Name: ptr(strings.Repeat("%", core.MaxFilterLen))})
	ok(t, err)
}

func testClientUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	exp := date(2026, 6, 30)
	c := newClient(t, s, "acme", func(c *core.Client) { c.ExpireDate = &exp })

	later := date(2026, 9, 30)
	up, err := s.UpdateClient(ctx, c.ID, core.ClientUpdate{
		Email: ptr("new@acme.io"), Status: ptr(core.ClientTransferring), ExpireDate: ptr(&later), Demo: ptr(true),
		OwnerPasswordEnc: ptr([]byte("sealed")), ExpireNoticeFor: ptr(&later), ServerID: ptr("s9"), URL: ptr("u"),
	})
	ok(t, err)
	want := *c
	want.Email, want.Status, want.ExpireDate, want.Demo, want.OwnerPasswordEnc, want.ExpireNoticeFor, want.ServerID, want.URL =
		"new@acme.io", core.ClientTransferring, &later, true, []byte("sealed"), &later, "s9", "u"
	want.UpdatedAt = up.UpdatedAt
	diff(t, &want, up)

	// A pointer to nil clears the date; an unset field leaves it.
	up, err = s.UpdateClient(ctx, c.ID, core.ClientUpdate{ExpireDate: ptr[*time.Time](nil)})
	ok(t, err)
	if up.ExpireDate != nil {
		t.Fatalf("ExpireDate = %v, want cleared", up.ExpireDate)
	}
	diff(t, &later, up.ExpireNoticeFor)
	got, err := s.GetClient(ctx, c.ID)
	ok(t, err)
	diff(t, up, got)

	newClient(t, s, "other", nil)
	_, err = s.UpdateClient(ctx, c.ID, core.ClientUpdate{Name: ptr("other")})
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdateClient(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", core.ClientUpdate{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)
}

func testExpireChanges(t *testing.T, s Store) {
	ctx := context.Background()
	c := newClient(t, s, "acme", nil)
	other := newClient(t, s, "other", nil)
	e1 := &core.ExpireChange{ClientID: c.ID, New: ptr(date(2026, 6, 30)), Actor: "alice", Source: "10.0.0.1", At: base}
	e2 := &core.ExpireChange{ClientID: c.ID, Old: ptr(date(2026, 6, 30)), New: nil, Actor: "bob", Source: "cli", At: base.Add(time.Hour)}
	e0 := &core.ExpireChange{ClientID: c.ID, New: ptr(date(2026, 1, 1)), Actor: "carol", At: base.Add(-time.Hour)}
	ok(t, s.AddExpireChange(ctx, e1))
	ok(t, s.AddExpireChange(ctx, e2))
	ok(t, s.AddExpireChange(ctx, e0))
	ok(t, s.AddExpireChange(ctx, &core.ExpireChange{ClientID: other.ID, Actor: "x"}))

	got, total, err := s.ListExpireChanges(ctx, c.ID, core.Page{})
	ok(t, err)
	diff(t, []*core.ExpireChange{e0, e1, e2}, got)
	if total != 3 {
		t.Fatalf("total = %d, want 3", total)
	}
	got, total, err = s.ListExpireChanges(ctx, c.ID, core.Page{Limit: 1, Sort: []string{"-at"}})
	ok(t, err)
	diff(t, []*core.ExpireChange{e2}, got)
	if total != 3 {
		t.Fatalf("total = %d, want 3", total)
	}
	got, total, err = s.ListExpireChanges(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", core.Page{})
	ok(t, err)
	if len(got) != 0 || total != 0 {
		t.Fatalf("unknown client: %d changes, total %d", len(got), total)
	}
	err = s.AddExpireChange(ctx, &core.ExpireChange{ClientID: "0190b6c4-6d5a-7000-8000-0000000000ff", Actor: "x"})
	wantKind(t, err, core.KindNotFound)
}

func testCountClientsByServer(t *testing.T, s Store) {
	ctx := context.Background()
	for i, srv := range []string{"s1", "s1", "s2", "s1", ""} {
		newClient(t, s, fmt.Sprintf("c%d", i), func(c *core.Client) {
			c.ServerID = srv
			if i == 3 {
				c.Status = core.ClientDeleted
			}
		})
	}
	got, err := s.CountClientsByServer(ctx)
	ok(t, err)
	diff(t, map[string]int{"s1": 2, "s2": 1}, got)
}

func testUsers(t *testing.T, s Store) {
	ctx := context.Background()
	u := &core.User{Name: "alice", Email: "alice@example.com", Role: core.RoleAdmin, PasswordHash: "$argon2id$x"}
	ok(t, s.CreateUser(ctx, u))
	got, err := s.GetUser(ctx, u.ID)
	ok(t, err)
	diff(t, u, got)
	got, err = s.GetUserByName(ctx, "alice")
	ok(t, err)
	diff(t, u, got)
	_, err = s.GetUserByName(ctx, "Alice")
	wantKind(t, err, core.KindNotFound)
	_, err = s.GetUser(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.CreateUser(ctx, &core.User{Name: "alice", Role: core.RoleMember}), core.KindConflict)

	bob := &core.User{Name: "bob", Role: core.RoleMember, Disabled: true}
	ok(t, s.CreateUser(ctx, bob))
	got, err = s.GetUser(ctx, bob.ID)
	ok(t, err)
	diff(t, bob, got)

	if u.Realm != core.RealmHostdeck {
		t.Fatalf("Realm = %q, want %q by default", u.Realm, core.RealmHostdeck)
	}
	sat := &core.User{Name: "sat@mail.test", Role: core.RoleMember, Realm: core.RealmStorage}
	ok(t, s.CreateUser(ctx, sat))
	got, err = s.GetUser(ctx, sat.ID)
	ok(t, err)
	diff(t, sat, got)
	list, n, err := s.ListUsers(ctx, core.UserFilter{Realm: ptr(core.RealmStorage)})
	ok(t, err)
	if n != 1 || len(list) != 1 || list[0].ID != sat.ID {
		t.Fatalf("ListUsers(realm satellite) = %d %v, want only %s", n, list, sat.Name)
	}
}

func testProjectsAndImages(t *testing.T, s Store) {
	ctx := context.Background()
	p := &core.Project{Name: "lab", Description: "the lab", OwnerID: "u1", Settings: json.RawMessage(`{"pool": "trs-1", "n": [1, 2]}`)}
	ok(t, s.CreateProject(ctx, p))
	got, err := s.GetProject(ctx, p.ID)
	ok(t, err)
	diff(t, p, got)
	bare := &core.Project{Name: "bare"}
	ok(t, s.CreateProject(ctx, bare))
	got, err = s.GetProject(ctx, bare.ID)
	ok(t, err)
	diff(t, bare, got)
	_, err = s.GetProject(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
	wantKind(t, s.CreateProject(ctx, &core.Project{ID: p.ID, Name: "dup"}), core.KindConflict)

	var ims []*core.Image
	for _, name := range []string{"ubuntu", "alfa", "debian"} {
		// Zone own keeps them apart from the catalogue's seeded (pub) images.
		im := &core.Image{Name: name, Ref: name + ":latest", Zone: "own", OwnerID: "u1", OSType: "linux"}
		ok(t, s.CreateImage(ctx, im))
		ims = append(ims, im)
	}
	gotIm, err := s.GetImage(ctx, ims[1].ID)
	ok(t, err)
	diff(t, ims[1], gotIm)
	_, err = s.GetImage(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
	own := ptr(core.ZoneOwn)
	list, total, err := s.ListImages(ctx, core.ImageFilter{Zone: own})
	ok(t, err)
	diff(t, ims, list)
	if total != 3 {
		t.Fatalf("total = %d, want 3", total)
	}
	list, total, err = s.ListImages(ctx, core.ImageFilter{Zone: own, Page: core.Page{Sort: []string{"name"}, Limit: 2}})
	ok(t, err)
	diff(t, []*core.Image{ims[1], ims[2]}, list)
	if total != 3 {
		t.Fatalf("total = %d, want 3", total)
	}
	_, _, err = s.ListImages(ctx, core.ImageFilter{Page: core.Page{Sort: []string{"ref"}}})
	wantKind(t, err, core.KindInvalid)
}

func testTaskCreate(t *testing.T, s Store) {
	ctx := context.Background()
	tk := newTask(t, s, func(tk *core.Task) {
		tk.Status, tk.TargetType, tk.TargetID, tk.Key = core.TaskStarted, "client", "c1", "expire:2026-03-14"
	})
	if tk.Status != core.TaskPending {
		t.Fatalf("Status = %s, want PENDING", tk.Status)
	}
	got, err := s.GetTask(ctx, tk.ID)
	ok(t, err)
	diff(t, tk, got)

	// Work done synchronously is recorded as it is.
	done := newTask(t, s, func(tk *core.Task) {
		tk.Status, tk.Progress, tk.Result = core.TaskSuccess, 100, json.RawMessage(`{"ok":true}`)
		tk.StartedAt, tk.FinishedAt = &tk.RunAt, &tk.RunAt
	})
	got, err = s.GetTask(ctx, done.ID)
	ok(t, err)
	diff(t, done, got)

	err = s.CreateTask(ctx, &core.Task{Kind: "expire", Key: "expire:2026-03-14"})
	wantKind(t, err, core.KindConflict)
	// Tasks without a key never conflict.
	newTask(t, s, nil)
	newTask(t, s, nil)

	noRunAt := &core.Task{Kind: "x"}
	ok(t, s.CreateTask(ctx, noRunAt))
	if noRunAt.RunAt.IsZero() || noRunAt.Payload != nil {
		t.Fatalf("RunAt not defaulted or Payload invented: %+v", noRunAt)
	}
	got, err = s.GetTask(ctx, noRunAt.ID)
	ok(t, err)
	diff(t, noRunAt, got)
	_, err = s.GetTask(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
}

func testTaskClaim(t *testing.T, s Store) {
	ctx := context.Background()
	now := base
	due := newTask(t, s, func(tk *core.Task) { tk.RunAt = now.Add(-time.Minute) })
	retry := newTask(t, s, func(tk *core.Task) { tk.RunAt = now.Add(-2 * time.Minute) })
	future := newTask(t, s, func(tk *core.Task) { tk.RunAt = now.Add(time.Hour) })
	done := newTask(t, s, func(tk *core.Task) { tk.RunAt = now.Add(-time.Hour) })

	// Make retry a RETRY task and done a finished one.
	claimed, err := s.ClaimTasks(ctx, "setup", now.Add(-30*time.Minute), time.Minute, 10)
	ok(t, err)
	diff(t, []string{done.ID}, ids(claimed, taskID))
	ok(t, finishTask(ctx, s, done.ID, "setup", core.TaskOutcome{Status: core.TaskSuccess}, now.Add(-30*time.Minute)))
	claimed, err = s.ClaimTasks(ctx, "setup", now.Add(-2*time.Minute), time.Minute, 10)
	ok(t, err)
	diff(t, []string{retry.ID}, ids(claimed, taskID))
	ok(t, finishTask(ctx, s, retry.ID, "setup", core.TaskOutcome{Status: core.TaskRetry, Error: "boom", RunAt: now.Add(-90 * time.Second)}, now.Add(-2*time.Minute)))

	claimed, err = s.ClaimTasks(ctx, "w1", now, 5*time.Minute, 10)
	ok(t, err)
	diff(t, []string{retry.ID, due.ID}, ids(claimed, taskID))
	for _, c := range claimed {
		if c.Status != core.TaskStarted || c.LeaseOwner != "w1" || c.LeaseUntil == nil || !c.LeaseUntil.Equal(now.Add(5*time.Minute)) ||
			c.StartedAt == nil || !c.StartedAt.Equal(now) {
			t.Fatalf("claimed task not leased: %+v", c)
		}
	}
	if claimed[0].Attempts != 2 || claimed[1].Attempts != 1 {
		t.Fatalf("attempts = %d, %d; want 2, 1", claimed[0].Attempts, claimed[1].Attempts)
	}
	got, err := s.GetTask(ctx, due.ID)
	ok(t, err)
	diff(t, claimed[1], got)

	// Nothing else is runnable until the future task's time or the leases run out.
	claimed, err = s.ClaimTasks(ctx, "w2", now.Add(time.Minute), time.Minute, 10)
	ok(t, err)
	if len(claimed) != 0 {
		t.Fatalf("claimed %v, want none", ids(claimed, taskID))
	}
	// The limit is respected; expired leases are taken over, attempts counted.
	claimed, err = s.ClaimTasks(ctx, "w2", now.Add(2*time.Hour), time.Minute, 2)
	ok(t, err)
	diff(t, []string{retry.ID, due.ID}, ids(claimed, taskID))
	if claimed[0].Attempts != 3 || claimed[1].Attempts != 2 || claimed[0].LeaseOwner != "w2" {
		t.Fatalf("taken over tasks: %+v %+v", claimed[0], claimed[1])
	}
	claimed, err = s.ClaimTasks(ctx, "w2", now.Add(2*time.Hour), time.Minute, 2)
	ok(t, err)
	diff(t, []string{future.ID}, ids(claimed, taskID))
	claimed, err = s.ClaimTasks(ctx, "w2", now.Add(2*time.Hour), time.Minute, 0)
	ok(t, err)
	if len(claimed) != 0 {
		t.Fatalf("limit 0 claimed %d tasks", len(claimed))
	}
}

func testTaskLease(t *testing.T, s Store) {
	ctx := context.Background()
	tk := newTask(t, s, nil)
	claimed, err := s.ClaimTasks(ctx, "w1", base, time.Minute, 1)
	ok(t, err)
	diff(t, []string{tk.ID}, ids(claimed, taskID))

	until := base.Add(3 * time.Minute)
	got, err := s.ExtendTaskLease(ctx, tk.ID, "w1", until)
	ok(t, err)
	if !got.LeaseUntil.Equal(until) || got.CancelRequested {
		t.Fatalf("extended task: %+v", got)
	}
	_, err = s.ExtendTaskLease(ctx, tk.ID, "w2", until)
	wantKind(t, err, core.KindConflict)
	_, err = s.ExtendTaskLease(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", "w1", until)
	wantKind(t, err, core.KindNotFound)

	ok(t, s.SetTaskProgress(ctx, tk.ID, "w1", 40, "copying volumes"))
	got, err = s.GetTask(ctx, tk.ID)
	ok(t, err)
	if got.Progress != 40 || got.Message != "copying volumes" {
		t.Fatalf("progress = %d %q", got.Progress, got.Message)
	}
	wantKind(t, s.SetTaskProgress(ctx, tk.ID, "w2", 50, ""), core.KindConflict)

	// The cancel request reaches the worker through the lease renewal.
	_, err = s.RequestTaskCancel(ctx, tk.ID, base)
	ok(t, err)
	got, err = s.ExtendTaskLease(ctx, tk.ID, "w1", until)
	ok(t, err)
	if !got.CancelRequested {
		t.Fatal("CancelRequested not seen by the lease holder")
	}

	// Another worker takes the task over after the lease ran out: w1 has lost it.
	claimed, err = s.ClaimTasks(ctx, "w2", until.Add(time.Second), time.Minute, 1)
	ok(t, err)
	diff(t, []string{tk.ID}, ids(claimed, taskID))
	_, err = s.ExtendTaskLease(ctx, tk.ID, "w1", until.Add(time.Hour))
	wantKind(t, err, core.KindConflict)
	wantKind(t, finishTask(ctx, s, tk.ID, "w1", core.TaskOutcome{Status: core.TaskSuccess}, until), core.KindConflict)
	wantKind(t, s.SetTaskProgress(ctx, tk.ID, "w1", 1, ""), core.KindConflict)
}

func testTaskFinish(t *testing.T, s Store) {
	ctx := context.Background()
	a := newTask(t, s, nil)
	b := newTask(t, s, nil)
	c := newTask(t, s, nil)
	_, err := s.ClaimTasks(ctx, "w", base, time.Minute, 3)
	ok(t, err)

	end := base.Add(10 * time.Second)
	ok(t, finishTask(ctx, s, a.ID, "w", core.TaskOutcome{Status: core.TaskSuccess, Result: json.RawMessage(`{"url":"https://x"}`)}, end))
	got, err := s.GetTask(ctx, a.ID)
	ok(t, err)
	if got.Status != core.TaskSuccess || string(got.Result) != `{"url":"https://x"}` || got.FinishedAt == nil || got.Progress != 100 ||
		!got.FinishedAt.Equal(end) || got.LeaseOwner != "" || got.LeaseUntil != nil {
		t.Fatalf("finished task: %+v", got)
	}
	wantKind(t, finishTask(ctx, s, a.ID, "w", core.TaskOutcome{Status: core.TaskFailure}, end), core.KindConflict)

	ok(t, finishTask(ctx, s, b.ID, "w", core.TaskOutcome{Status: core.TaskFailure, Error: "no capacity"}, end))
	got, err = s.GetTask(ctx, b.ID)
	ok(t, err)
	if got.Status != core.TaskFailure || got.Error != "no capacity" || got.FinishedAt == nil {
		t.Fatalf("failed task: %+v", got)
	}

	next := base.Add(time.Hour)
	ok(t, finishTask(ctx, s, c.ID, "w", core.TaskOutcome{Status: core.TaskRetry, Error: "timeout", RunAt: next}, end))
	got, err = s.GetTask(ctx, c.ID)
	ok(t, err)
	if got.Status != core.TaskRetry || got.Error != "timeout" || !got.RunAt.Equal(next) || got.FinishedAt != nil || got.LeaseOwner != "" {
		t.Fatalf("retried task: %+v", got)
	}
	claimed, err := s.ClaimTasks(ctx, "w", next.Add(-time.Second), time.Minute, 5)
	ok(t, err)
	if len(claimed) != 0 {
		t.Fatal("RETRY task claimed before its RunAt")
	}
	claimed, err = s.ClaimTasks(ctx, "w", next, time.Minute, 5)
	ok(t, err)
	diff(t, []string{c.ID}, ids(claimed, taskID))
	if claimed[0].Attempts != 2 {
		t.Fatalf("attempts = %d, want 2", claimed[0].Attempts)
	}

	wantKind(t, finishTask(ctx, s, c.ID, "w", core.TaskOutcome{Status: core.TaskPending}, end), core.KindInvalid)
	wantKind(t, finishTask(ctx, s, "0190b6c4-6d5a-7000-8000-0000000000ff", "w", core.TaskOutcome{Status: core.TaskSuccess}, end), core.KindConflict)
}

// finishTask records one outcome; a task owner does not hold is KindConflict.
func finishTask(ctx context.Context, s Store, id, owner string, o core.TaskOutcome, now time.Time) error {
	o.ID = id
	lost, err := s.FinishTasks(ctx, owner, []core.TaskOutcome{o}, now)
	if err != nil {
		return err
	}
	if len(lost) > 0 {
		return core.Errorf(core.KindConflict, "task %s is not leased to %s", id, owner)
	}
	return nil
}

// testTaskFinishMany records several outcomes in one call: each as its status
// asks, with the progress it carries, and those of tasks owner lost left alone.
func testTaskFinishMany(t *testing.T, s Store) {
	ctx := context.Background()
	var tasks []*core.Task
	for range 5 {
		tasks = append(tasks, newTask(t, s, nil))
	}
	_, err := s.ClaimTasks(ctx, "w", base, time.Minute, 4)
	ok(t, err)
	a, b, c, d, e := tasks[0], tasks[1], tasks[2], tasks[3], tasks[4]
	ok(t, s.SetTaskProgress(ctx, c.ID, "w", 30, "copying"))
	// w2 takes a over once w's lease has run out (w renews b, c and d after);
	// e was never claimed.
	claimed, err := s.ClaimTasks(ctx, "w2", base.Add(2*time.Minute), time.Minute, 1)
	ok(t, err)
	diff(t, []string{a.ID}, ids(claimed, taskID))
	_, err = s.ExtendTaskLease(ctx, b.ID, "w", base.Add(time.Hour))
	ok(t, err)
	_, err = s.ExtendTaskLease(ctx, c.ID, "w", base.Add(time.Hour))
	ok(t, err)
	_, err = s.ExtendTaskLease(ctx, d.ID, "w", base.Add(time.Hour))
	ok(t, err)

	end := base.Add(3 * time.Minute)
	next := base.Add(time.Hour)
	lost, err := s.FinishTasks(ctx, "w", []core.TaskOutcome{
		{ID: a.ID, Status: core.TaskSuccess},
		{ID: b.ID, Status: core.TaskSuccess, Result: json.RawMessage(`{"ip":"10.0.0.7"}`), Progress: &core.TaskProgress{Percent: 90, Message: "sending e-mail"}},
		{ID: c.ID, Status: core.TaskRetry, Error: "timeout", RunAt: next},
		{ID: d.ID, Status: core.TaskFailure, Error: "no capacity", Progress: &core.TaskProgress{Percent: 60, Message: "starting"}},
		{ID: e.ID, Status: core.TaskSuccess},
	}, end)
	ok(t, err)
	slices.Sort(lost)
	want := []string{a.ID, e.ID}
	slices.Sort(want)
	diff(t, want, lost)

	type row struct {
		Status            core.TaskStatus
		Progress          int
		Message, Error    string
		Result            string
		LeaseOwner        string
		Finished, RunNext bool
	}
	rowOf := func(id string) row {
		got, err := s.GetTask(ctx, id)
		ok(t, err)
		return row{got.Status, got.Progress, got.Message, got.Error, string(got.Result), got.LeaseOwner,
			got.FinishedAt != nil && got.FinishedAt.Equal(end), got.RunAt.Equal(next)}
	}
	diff(t, []row{
		{Status: core.TaskStarted, LeaseOwner: "w2"},
		{Status: core.TaskSuccess, Progress: 100, Message: "sending e-mail", Result: `{"ip":"10.0.0.7"}`, Finished: true},
		{Status: core.TaskRetry, Progress: 30, Message: "copying", Error: "timeout", RunNext: true},
		{Status: core.TaskFailure, Progress: 60, Message: "starting", Error: "no capacity", Finished: true},
		{Status: core.TaskPending},
	}, []row{rowOf(a.ID), rowOf(b.ID), rowOf(c.ID), rowOf(d.ID), rowOf(e.ID)})

	// A status that ends nothing refuses the whole call.
	_, err = s.FinishTasks(ctx, "w2", []core.TaskOutcome{{ID: a.ID, Status: core.TaskSuccess}, {ID: a.ID, Status: core.TaskStarted}}, end)
	wantKind(t, err, core.KindInvalid)
	diff(t, core.TaskStarted, rowOf(a.ID).Status)
	lost, err = s.FinishTasks(ctx, "w2", nil, end)
	ok(t, err)
	diff(t, 0, len(lost))
}

func testTaskCancel(t *testing.T, s Store) {
	ctx := context.Background()
	pending := newTask(t, s, func(tk *core.Task) { tk.RunAt = base.Add(time.Hour) })
	running := newTask(t, s, nil)
	_, err := s.ClaimTasks(ctx, "w", base, time.Minute, 5)
	ok(t, err)

	at := base.Add(time.Second)
	got, err := s.RequestTaskCancel(ctx, pending.ID, at)
	ok(t, err)
	if got.Status != core.TaskRevoked || got.FinishedAt == nil || !got.FinishedAt.Equal(at) {
		t.Fatalf("cancelled pending task: %+v", got)
	}
	got, err = s.RequestTaskCancel(ctx, running.ID, at)
	ok(t, err)
	if got.Status != core.TaskStarted || !got.CancelRequested || got.FinishedAt != nil || got.LeaseOwner != "w" {
		t.Fatalf("cancelled running task: %+v", got)
	}
	// Asking again is harmless while it runs.
	_, err = s.RequestTaskCancel(ctx, running.ID, at)
	ok(t, err)
	ok(t, finishTask(ctx, s, running.ID, "w", core.TaskOutcome{Status: core.TaskRevoked, Error: "cancelled"}, at))

	_, err = s.RequestTaskCancel(ctx, running.ID, at)
	wantKind(t, err, core.KindConflict)
	_, err = s.RequestTaskCancel(ctx, pending.ID, at)
	wantKind(t, err, core.KindConflict)
	_, err = s.RequestTaskCancel(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", at)
	wantKind(t, err, core.KindNotFound)

	// A RETRY task is revoked at once too.
	retry := newTask(t, s, nil)
	_, err = s.ClaimTasks(ctx, "w", base, time.Minute, 5)
	ok(t, err)
	ok(t, finishTask(ctx, s, retry.ID, "w", core.TaskOutcome{Status: core.TaskRetry, RunAt: base.Add(time.Hour)}, base))
	got, err = s.RequestTaskCancel(ctx, retry.ID, at)
	ok(t, err)
	if got.Status != core.TaskRevoked {
		t.Fatalf("cancelled retry task: %+v", got)
	}
}

func testTaskRelease(t *testing.T, s Store) {
	ctx := context.Background()
	a := newTask(t, s, nil)
	b := newTask(t, s, nil)
	c := newTask(t, s, nil)
	_, err := s.ClaimTasks(ctx, "w1", base, time.Minute, 2)
	ok(t, err)
	_, err = s.ClaimTasks(ctx, "w2", base, time.Minute, 1)
	ok(t, err)

	ok(t, s.ReleaseTasks(ctx, "w1", base.Add(time.Second)))
	for _, tk := range []*core.Task{a, b} {
		got, err := s.GetTask(ctx, tk.ID)
		ok(t, err)
		if got.Status != core.TaskPending || got.LeaseOwner != "" || got.LeaseUntil != nil || got.Attempts != 0 {
			t.Fatalf("released task: %+v", got)
		}
	}
	got, err := s.GetTask(ctx, c.ID)
	ok(t, err)
	if got.Status != core.TaskStarted || got.LeaseOwner != "w2" {
		t.Fatalf("another owner's task was released: %+v", got)
	}
	// Released tasks run at the next start, without waiting for a lease to expire.
	claimed, err := s.ClaimTasks(ctx, "w3", base.Add(2*time.Second), time.Minute, 5)
	ok(t, err)
	diff(t, []string{a.ID, b.ID}, ids(claimed, taskID))
	if claimed[0].Attempts != 1 {
		t.Fatalf("attempts = %d, want 1", claimed[0].Attempts)
	}
	ok(t, s.ReleaseTasks(ctx, "nobody", base))
}

func testTaskListAndCount(t *testing.T, s Store) {
	ctx := context.Background()
	a := newTask(t, s, func(tk *core.Task) { tk.Kind, tk.TargetType, tk.TargetID = "client.create", "client", "c1" })
	b := newTask(t, s, func(tk *core.Task) { tk.Kind, tk.TargetType, tk.TargetID = "client.delete", "client", "c1" })
	c := newTask(t, s, func(tk *core.Task) {
		tk.Kind, tk.TargetType, tk.TargetID, tk.Creator = "server.probe", "server", "s1", "system"
	})
	_, err := s.ClaimTasks(ctx, "w", base, time.Minute, 1)
	ok(t, err)

	for _, tc := range []struct {
		f    core.TaskFilter
		want []string
	}{
		{core.TaskFilter{}, []string{a.ID, b.ID, c.ID}},
		{core.TaskFilter{Kind: ptr("client.delete")}, []string{b.ID}},
		{core.TaskFilter{Status: ptr(core.TaskPending)}, []string{b.ID, c.ID}},
		{core.TaskFilter{TargetType: ptr("client"), TargetID: ptr("c1")}, []string{a.ID, b.ID}},
		{core.TaskFilter{Creator: ptr("system")}, []string{c.ID}},
		{core.TaskFilter{Page: core.Page{Sort: []string{"-created_at"}, Limit: 2}}, []string{c.ID, b.ID}},
	} {
		got, total, err := s.ListTasks(ctx, tc.f)
		ok(t, err)
		diff(t, tc.want, ids(got, taskID))
		if tc.f.Limit == 0 && total != len(tc.want) || tc.f.Limit != 0 && total != 3 {
			t.Fatalf("%+v: total = %d", tc.f, total)
		}
	}
	_, _, err = s.ListTasks(ctx, core.TaskFilter{Page: core.Page{Sort: []string{"payload"}}})
	wantKind(t, err, core.KindInvalid)

	counts, err := s.CountTasksByStatus(ctx)
	ok(t, err)
	diff(t, map[core.TaskStatus]int{core.TaskStarted: 1, core.TaskPending: 2}, counts)
}

// testConcurrentClaims claims from several goroutines at once: no task may be
// handed to two owners.
func testConcurrentClaims(t *testing.T, s Store) {
	ctx := context.Background()
	const tasks, workers = 60, 6
	for i := 0; i < tasks; i++ {
		newTask(t, s, func(tk *core.Task) { tk.Payload = json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)) })
	}
	var mu sync.Mutex
	owner := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("w%d", w)
			for {
				claimed, err := s.ClaimTasks(ctx, name, base, time.Hour, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, tk := range claimed {
					if prev, dup := owner[tk.ID]; dup {
						mu.Unlock()
						errs <- fmt.Errorf("task %s claimed by %s and %s", tk.ID, prev, name)
						return
					}
					owner[tk.ID] = name
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owner) != tasks {
		t.Fatalf("%d tasks claimed, want %d", len(owner), tasks)
	}
	counts, err := s.CountTasksByStatus(ctx)
	ok(t, err)
	diff(t, map[core.TaskStatus]int{core.TaskStarted: tasks}, counts)
}

func testAudit(t *testing.T, s Store) {
	ctx := context.Background()
	var evs []*core.AuditEvent
	for i, a := range []struct{ actor, action, tt, tid string }{
		{"alice", "client.create", "client", "c1"},
		{"bob", "client.update", "client", "c1"},
		{"alice", "server.create", "server", "s1"},
	} {
		e := &core.AuditEvent{At: base.Add(time.Duration(i) * time.Second), Actor: a.actor, Face: "alfa", Source: "10.0.0.1",
			Action: a.action, TargetType: a.tt, TargetID: a.tid, Detail: json.RawMessage(`{"name":"acme"}`)}
		ok(t, s.AddAudit(ctx, e))
		evs = append(evs, e)
	}
	noDetail := &core.AuditEvent{Actor: "system", Action: "task.run"}
	ok(t, s.AddAudit(ctx, noDetail))
	if noDetail.ID == "" || noDetail.At.IsZero() {
		t.Fatalf("AddAudit did not fill id and time: %+v", noDetail)
	}

	got, total, err := s.ListAudit(ctx, core.AuditFilter{Actor: ptr("alice")})
	ok(t, err)
	diff(t, []*core.AuditEvent{evs[2], evs[0]}, got) // newest first
	if total != 2 {
		t.Fatalf("total = %d, want 2", total)
	}
	got, _, err = s.ListAudit(ctx, core.AuditFilter{TargetType: ptr("client"), TargetID: ptr("c1"), Page: core.Page{Sort: []string{"at"}}})
	ok(t, err)
	diff(t, []*core.AuditEvent{evs[0], evs[1]}, got)
	got, _, err = s.ListAudit(ctx, core.AuditFilter{Action: ptr("task.run")})
	ok(t, err)
	diff(t, []*core.AuditEvent{noDetail}, got)
	got, total, err = s.ListAudit(ctx, core.AuditFilter{Page: core.Page{Limit: 1, Offset: 1}})
	ok(t, err)
	if total != 4 || len(got) != 1 {
		t.Fatalf("page: %d events, total %d", len(got), total)
	}
	_, _, err = s.ListAudit(ctx, core.AuditFilter{Page: core.Page{Sort: []string{"detail"}}})
	wantKind(t, err, core.KindInvalid)
}

// testAuditFilters checks the audit log's filters: any of several actors,
// actions, target types and ids (none of an empty list), a time range with
// both ends included, and a piece of the detail, in which LIKE's wildcards and
// escape are plain characters; all of them together, and paged.
func testAuditFilters(t *testing.T, s Store) {
	ctx := context.Background()
	var evs []*core.AuditEvent
	for i, a := range []struct{ actor, action, tt, tid, detail string }{
		{"alice", "client.create", "client", "c1", `{"name":"acme"}`},
		{"bob", "client.update", "client", "c1", `{"note":"50% off_now \\ ok"}`},
		{"alice", "server.create", "server", "s1", `{"name":"Acme-2"}`},
		{"carol", "grant.add", "application", "app-1", `{"grantee":"sam"}`},
		{"system", "task.run", "", "", ""},
	} {
		e := &core.AuditEvent{At: base.Add(time.Duration(i) * time.Second), Actor: a.actor, Face: "test",
			Action: a.action, TargetType: a.tt, TargetID: a.tid}
		if a.detail != "" {
			e.Detail = json.RawMessage(a.detail)
		}
		ok(t, s.AddAudit(ctx, e))
		evs = append(evs, e)
	}
	at := func(sec int) *time.Time { v := base.Add(time.Duration(sec) * time.Second); return &v }
	for _, c := range []struct {
		name  string
		f     core.AuditFilter
		want  []int // newest first
		total int
	}{
		{"actions", core.AuditFilter{Actions: []string{"client.create", "server.create"}}, []int{2, 0}, 2},
		{"no actions", core.AuditFilter{Actions: []string{}}, []int{}, 0},
		{"actors", core.AuditFilter{Actors: []string{"alice", "carol"}}, []int{3, 2, 0}, 3},
		{"no actors", core.AuditFilter{Actors: []string{}}, []int{}, 0},
		{"target types", core.AuditFilter{TargetTypes: []string{"client"}}, []int{1, 0}, 2},
		{"no target types", core.AuditFilter{TargetTypes: []string{}}, []int{}, 0},
		{"target ids", core.AuditFilter{TargetIDs: []string{"c1", "app-1"}}, []int{3, 1, 0}, 3},
		{"no target ids", core.AuditFilter{TargetIDs: []string{}}, []int{}, 0},
		{"a range, both ends included", core.AuditFilter{From: at(1), To: at(3)}, []int{3, 2, 1}, 3},
		{"from", core.AuditFilter{From: at(3)}, []int{4, 3}, 2},
		{"to", core.AuditFilter{To: at(0)}, []int{0}, 1},
		{"an empty range", core.AuditFilter{From: at(3), To: at(2)}, []int{}, 0},
		{"detail, letter case aside", core.AuditFilter{DetailContains: ptr("ACME")}, []int{2, 0}, 2},
		{"a percent sign", core.AuditFilter{DetailContains: ptr("0% o")}, []int{1}, 1},
		{"an underscore", core.AuditFilter{DetailContains: ptr("_")}, []int{1}, 1},
		{"a backslash", core.AuditFilter{DetailContains: ptr(`\`)}, []int{1}, 1},
		{"wildcards are no wildcards", core.AuditFilter{DetailContains: ptr("a%e")}, []int{}, 0},
		{"with the single filters", core.AuditFilter{Actor: ptr("alice"), Actions: []string{"client.create", "client.update"}}, []int{0}, 1},
		{"together, paged", core.AuditFilter{Actors: []string{"alice", "bob"}, TargetTypes: []string{"client", "server"},
			From: at(0), To: at(4), DetailContains: ptr("n"), Page: core.Page{Limit: 2}}, []int{2, 1}, 3},
		{"the next page", core.AuditFilter{Actors: []string{"alice", "bob"}, TargetTypes: []string{"client", "server"},
			From: at(0), To: at(4), DetailContains: ptr("n"), Page: core.Page{Limit: 2, Offset: 2}}, []int{0}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.ListAudit(ctx, c.f)
			ok(t, err)
			want := []*core.AuditEvent{}
			for _, i := range c.want {
				want = append(want, evs[i])
			}
			diff(t, want, got)
			diff(t, c.total, total)
		})
	}
}

func testInTx(t *testing.T, s Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	var srvID, taskIDv string
	err := s.InTx(ctx, func(q services.Queries) error {
		srv := &core.Server{Name: "tx", Status: core.ServerActive}
		if err := q.CreateServer(ctx, srv); err != nil {
			return err
		}
		srvID = srv.ID
		// Reads inside the transaction see its writes.
		if _, err := q.GetServer(ctx, srv.ID); err != nil {
			return err
		}
		tk := &core.Task{Kind: "x"}
		if err := q.CreateTask(ctx, tk); err != nil {
			return err
		}
		taskIDv = tk.ID
		if err := q.AddAudit(ctx, &core.AuditEvent{Action: "server.create"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx error = %v, want boom", err)
	}
	_, err = s.GetServer(ctx, srvID)
	wantKind(t, err, core.KindNotFound)
	_, err = s.GetTask(ctx, taskIDv)
	wantKind(t, err, core.KindNotFound)
	_, total, err := s.ListAudit(ctx, core.AuditFilter{})
	ok(t, err)
	if total != 0 {
		t.Fatalf("%d audit events survived the rollback", total)
	}

	// A store error inside keeps its kind, and the rest is rolled back.
	newServer(t, s, "taken", nil)
	err = s.InTx(ctx, func(q services.Queries) error {
		if err := q.CreateClient(ctx, &core.Client{Name: "c", Status: core.ClientActive}); err != nil {
			return err
		}
		return q.CreateServer(ctx, &core.Server{Name: "taken", Status: core.ServerActive})
	})
	wantKind(t, err, core.KindConflict)
	_, total, err = listClients(ctx, s, core.ClientFilter{})
	ok(t, err)
	if total != 0 {
		t.Fatalf("%d clients survived the rollback", total)
	}

	// A panic rolls back too.
	func() {
		defer func() { _ = recover() }()
		_ = s.InTx(ctx, func(q services.Queries) error {
			if err := q.CreateServer(ctx, &core.Server{Name: "panic", Status: core.ServerActive}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, total, err = s.ListServers(ctx, core.ServerFilter{})
	ok(t, err)
	if total != 1 {
		t.Fatalf("servers = %d, want 1 after a panicking transaction", total)
	}

	err = s.InTx(ctx, func(q services.Queries) error {
		return q.CreateServer(ctx, &core.Server{Name: "committed", Status: core.ServerActive})
	})
	ok(t, err)
	_, total, err = s.ListServers(ctx, core.ServerFilter{})
	ok(t, err)
	if total != 2 {
		t.Fatalf("servers = %d, want 2 after a commit", total)
	}
}

// testInTxConcurrent runs transactions at once (on SQLite they share commits):
// each one's outcome is its own, whatever the others do.
func testInTxConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 60
	errs := make([]error, n)
	panics := make([]any, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			errs[i] = s.InTx(ctx, func(q services.Queries) error {
				srv := &core.Server{Name: fmt.Sprintf("c-%02d", i), Status: core.ServerActive}
				if err := q.CreateServer(ctx, srv); err != nil {
					return err
				}
				ids[i] = srv.ID
				switch i % 3 {
				case 0:
					return fmt.Errorf("fail %d", i)
				case 1:
					panic(fmt.Sprintf("panic %d", i))
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		_, err := s.GetServer(ctx, ids[i])
		kept := err == nil
		switch i % 3 {
		case 0:
			if errs[i] == nil || errs[i].Error() != fmt.Sprintf("fail %d", i) || kept {
				t.Errorf("%d: err %v, kept %v", i, errs[i], kept)
			}
		case 1:
			if panics[i] != fmt.Sprintf("panic %d", i) || kept {
				t.Errorf("%d: panic %v, kept %v", i, panics[i], kept)
			}
		default:
			if errs[i] != nil || panics[i] != nil || !kept {
				t.Errorf("%d: err %v panic %v, kept %v (%v)", i, errs[i], panics[i], kept, err)
			}
		}
	}
	// A cancelled context is refused before anything runs.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	if err := s.InTx(cctx, func(services.Queries) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled: %v, ran %v", err, ran)
	}
}

// testInstancesAfter walks a server's instances in batches: every one once, in
// creation order (id breaking ties), none of another server's.
func testInstancesAfter(t *testing.T, s Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i, d := range []int{0, 1, 1, 1, 2, 3, 5} { // three made in the same microsecond
		in := &core.Instance{Name: fmt.Sprintf("walk-%d", i), ServerID: "srv-walk", State: core.StateActive,
			CreatedAt: at.Add(time.Duration(d) * time.Second), UpdatedAt: at}
		ok(t, s.CreateInstance(ctx, in))
		want = append(want, in.ID)
		ok(t, s.CreateInstance(ctx, &core.Instance{Name: fmt.Sprintf("other-%d", i), ServerID: "srv-other", State: core.StateActive,
			CreatedAt: in.CreatedAt, UpdatedAt: at}))
	}
	// Same-time instances come in id order.
	slices.SortStableFunc(want[1:4], strings.Compare)
	for _, limit := range []int{1, 2, 3, 7, 100} {
		var got []string
		var after *core.Instance
		for {
			page, err := s.ListInstancesAfter(ctx, "srv-walk", after, limit)
			ok(t, err)
			if len(page) > limit {
				t.Fatalf("limit %d: a batch of %d", limit, len(page))
			}
			for _, in := range page {
				got = append(got, in.ID)
			}
			if len(page) < limit {
				break
			}
			after = page[len(page)-1]
		}
		diff(t, want, got)
	}
	none, err := s.ListInstancesAfter(ctx, "srv-none", nil, 10)
	ok(t, err)
	if len(none) != 0 {
		t.Fatalf("unknown server: %d instances", len(none))
	}
}

// listClients is ListClients as a page of clients and its total.
func listClients(ctx context.Context, s Store, f core.ClientFilter) ([]*core.Client, int, error) {
	l, err := s.ListClients(ctx, f)
	out := make([]*core.Client, len(l.Items))
	for i, r := range l.Items {
		out[i] = r.Client
	}
	return out, l.Total, err
}
