package storetest

import (
	"context"
	"testing"

	"hostdeck/core"
	"hostdeck/core/desktop"
)

// The catalogue's seeded records (migration 0003).
const (
	seedFlavorSmall = "0a7e5c1d-7f3b-4c2a-9d10-000000000001"
	seedImageSample = "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
)

func testCatalogue(t *testing.T, s Store) {
	ctx := context.Background()

	// Seeded flavors and images are there from the start.
	small, err := s.GetFlavor(ctx, seedFlavorSmall)
	ok(t, err)
	if small.Name != "trs.small" || small.VCPUs < 1 || small.RAM < 1 {
		t.Fatalf("seeded flavor = %+v", small)
	}
	flavors, total, err := s.ListFlavors(ctx, core.Page{})
	ok(t, err)
	if total != 3 || len(flavors) != 3 || flavors[0].Name != "trs.small" || flavors[2].Name != "trs.large" {
		t.Fatalf("seeded flavors = %d %+v", total, flavors)
	}
	sample, err := s.GetImage(ctx, seedImageSample)
	ok(t, err)
	if sample.Ref != "hostdeck/sample-client:latest" || sample.Zone != core.ZonePub {
		t.Fatalf("seeded image = %+v", sample)
	}

	f := &core.Flavor{Name: "trs.huge", VCPUs: 16, RAM: 65536, Disk: 500, CreatedAt: base}
	ok(t, s.CreateFlavor(ctx, f))
	got, err := s.GetFlavor(ctx, f.ID)
	ok(t, err)
	diff(t, f, got)
	wantKind(t, s.CreateFlavor(ctx, &core.Flavor{Name: "trs.huge", VCPUs: 1, RAM: 1}), core.KindConflict)
	_, err = s.GetFlavor(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)
	flavors, total, err = s.ListFlavors(ctx, core.Page{Sort: []string{"-vcpus"}, Limit: 1})
	ok(t, err)
	if total != 4 || len(flavors) != 1 || flavors[0].ID != f.ID {
		t.Fatalf("flavors by vcpus = %d %+v", total, flavors)
	}
	_, _, err = s.ListFlavors(ctx, core.Page{Sort: []string{"nope"}})
	wantKind(t, err, core.KindInvalid)

	// Visibility: pub images and the owner's own.
	mine := &core.Image{Name: "mine", Ref: "mine:1", Zone: core.ZoneOwn, OwnerID: "u1"}
	theirs := &core.Image{Name: "theirs", Ref: "theirs:1", Zone: core.ZoneOwn, OwnerID: "u2"}
	ok(t, s.CreateImage(ctx, mine))
	ok(t, s.CreateImage(ctx, theirs))
	imageID := func(im *core.Image) string { return im.ID }
	all, total, err := s.ListImages(ctx, core.ImageFilter{})
	ok(t, err)
	if total != 5 || len(all) != 5 {
		t.Fatalf("all images = %d", total)
	}
	vis, total, err := s.ListImages(ctx, core.ImageFilter{VisibleTo: ptr("u1")})
	ok(t, err)
	diff(t, []string{all[0].ID, all[1].ID, all[2].ID, mine.ID}, ids(vis, imageID))
	if total != 4 {
		t.Fatalf("visible total = %d, want 4", total)
	}
	vis, _, err = s.ListImages(ctx, core.ImageFilter{VisibleTo: ptr("u2"), Zone: ptr(core.ZoneOwn)})
	ok(t, err)
	diff(t, []string{theirs.ID}, ids(vis, imageID))
}

func newPool(t testing.TB, s desktop.Store, name string, mod func(*desktop.Pool)) *desktop.Pool {
	t.Helper()
	p := &desktop.Pool{
		Name: name, Description: "pool " + name, Enabled: true, DomainID: "default", ParentID: "default",
		Tags: []string{"trs"}, FlavorID: seedFlavorSmall, ImageID: seedImageSample,
		OperationMode: desktop.ModeStandard, NetworkID: "net-1", AvailabilityZone: "nova",
		InstanceNamePattern: "trs-**", UserVolumeEnabled: true, VolumeSize: 1, CreatedAt: base,
	}
	if mod != nil {
		mod(p)
	}
	ok(t, s.CreatePool(context.Background(), p))
	return p
}

func testPools(t *testing.T, st Store) {
	s := st
	ctx := context.Background()
	a := newPool(t, s, "alpha", func(p *desktop.Pool) {
		p.InstanceInitScript = "IyEvYmluL3NoCg=="
		p.MinReserveVM = 2
		p.MaxInstances = 10
		p.VolumeTypeID = "ssd"
	})
	if !core.ValidID(a.ID) || a.UpdatedAt.IsZero() {
		t.Fatalf("create did not fill id and times: %+v", a)
	}
	got, err := s.GetPool(ctx, a.ID)
	ok(t, err)
	diff(t, a, got)

	// The project row is shared: GetProject sees it.
	pr, err := s.GetProject(ctx, a.ID)
	ok(t, err)
	if pr.Name != "alpha" {
		t.Fatalf("project = %+v", pr)
	}
	// A project that is not a TRS project is not found as one.
	plain := &core.Project{Name: "plain"}
	ok(t, s.CreateProject(ctx, plain))
	_, err = s.GetPool(ctx, plain.ID)
	wantKind(t, err, core.KindNotFound)
	_, err = s.UpdatePool(ctx, plain.ID, desktop.PoolInput{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)
	// ...and its name does not clash with TRS projects.
	newPool(t, s, "plain", nil)

	// Names are unique within a domain.
	wantKind(t, s.CreatePool(ctx, &desktop.Pool{Name: "alpha", DomainID: "default", FlavorID: seedFlavorSmall,
		ImageID: seedImageSample, OperationMode: 1, InstanceNamePattern: "x*"}), core.KindConflict)
	b := newPool(t, s, "alpha", func(p *desktop.Pool) { p.DomainID = "other"; p.OperationMode = desktop.ModeSimultaneous })
	c := newPool(t, s, "gamma", func(p *desktop.Pool) { p.Enabled = false; p.Tags = nil })
	if c.Tags == nil {
		t.Fatal("nil tags not normalised")
	}

	// Update changes what is set, in both rows.
	u, err := s.UpdatePool(ctx, a.ID, desktop.PoolInput{
		Description: ptr("new"), Enabled: ptr(false), Tags: ptr([]string{"a", "b"}),
		OperationMode: ptr(desktop.ModeSimultaneous), InstanceInitScript: ptr(""), MaxInstances: ptr(0),
	})
	ok(t, err)
	want := *a
	want.Description, want.Enabled, want.Tags = "new", false, []string{"a", "b"}
	want.OperationMode, want.InstanceInitScript, want.MaxInstances = desktop.ModeSimultaneous, "", 0
	want.UpdatedAt = u.UpdatedAt
	diff(t, &want, u)
	got, err = s.GetPool(ctx, a.ID)
	ok(t, err)
	diff(t, u, got)
	_, err = s.UpdatePool(ctx, a.ID, desktop.PoolInput{DomainID: ptr("other")})
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdatePool(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", desktop.PoolInput{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)

	// Listing and filters.
	pid := func(p *desktop.Pool) string { return p.ID }
	all, total, err := s.ListPools(ctx, desktop.PoolFilter{})
	ok(t, err)
	if total != 4 || len(all) != 4 {
		t.Fatalf("list = %d %v", total, ids(all, pid))
	}
	list, _, err := s.ListPools(ctx, desktop.PoolFilter{Name: ptr("alpha"), Page: core.Page{Sort: []string{"domain_id"}}})
	ok(t, err)
	diff(t, []string{a.ID, b.ID}, ids(list, pid))
	list, _, err = s.ListPools(ctx, desktop.PoolFilter{Enabled: ptr(false)})
	ok(t, err)
	diff(t, []string{a.ID, c.ID}, ids(list, pid))
	list, _, err = s.ListPools(ctx, desktop.PoolFilter{DomainID: ptr("other")})
	ok(t, err)
	diff(t, []string{b.ID}, ids(list, pid))
	list, _, err = s.ListPools(ctx, desktop.PoolFilter{OperationMode: ptr(desktop.ModeSimultaneous)})
	ok(t, err)
	diff(t, []string{a.ID, b.ID}, ids(list, pid))
	list, _, err = s.ListPools(ctx, desktop.PoolFilter{IDs: []string{c.ID, b.ID}})
	ok(t, err)
	diff(t, []string{b.ID, c.ID}, ids(list, pid))
	// Projects of a user: those it has a role on, whichever role.
	member := newUser(t, s, "member")
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: c.ID, UserID: member.ID, Role: core.RoleMember}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: a.ID, UserID: member.ID, Role: core.RoleAdmin}))
	ok(t, s.GrantRole(ctx, &core.RoleGrant{ProjectID: a.ID, UserID: member.ID, Role: core.RoleMember}))
	list, total, err = s.ListPools(ctx, desktop.PoolFilter{UserID: &member.ID})
	ok(t, err)
	diff(t, []string{a.ID, c.ID}, ids(list, pid))
	if total != 2 {
		t.Fatalf("projects of a user: total = %d", total)
	}
	list, total, err = s.ListPools(ctx, desktop.PoolFilter{IDs: []string{}})
	ok(t, err)
	if len(list) != 0 || total != 0 {
		t.Fatalf("empty ids = %d", total)
	}
	list, total, err = s.ListPools(ctx, desktop.PoolFilter{Page: core.Page{Sort: []string{"name", "domain_id"}, Offset: 3, Limit: 1}})
	ok(t, err)
	if total != 4 || len(list) != 1 || list[0].Name != "plain" {
		t.Fatalf("deep page = %d %+v", total, list)
	}

	// Instance counts by state.
	srv := newServer(t, s, "s1", nil)
	for i, st := range []core.InstanceState{core.StateActive, core.StateActive, core.StateError, core.StateDeleted, core.StateBuilding} {
		ok(t, s.CreateInstance(ctx, &core.Instance{Name: "trs-0" + string(rune('1'+i)), ServerID: srv.ID, ProjectID: a.ID, State: st}))
	}
	ok(t, s.CreateInstance(ctx, &core.Instance{Name: "elsewhere", ServerID: srv.ID, ProjectID: b.ID, State: core.StateActive}))
	counts, err := s.CountInstancesByState(ctx, a.ID)
	ok(t, err)
	diff(t, map[core.InstanceState]int{core.StateActive: 2, core.StateError: 1, core.StateDeleted: 1, core.StateBuilding: 1}, counts)
	counts, err = s.CountInstancesByState(ctx, c.ID)
	ok(t, err)
	diff(t, map[core.InstanceState]int{}, counts)
}
