package core_test

import (
	"context"
	"testing"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/internal/testenv"
)

// Seeded by migration 0003.
const (
	flavorSmall  = "0a7e5c1d-7f3b-4c2a-9d10-000000000001"
	flavorMedium = "0a7e5c1d-7f3b-4c2a-9d10-000000000002"
	imageSample  = "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
	unknownID    = "0190b6c4-6d5a-7000-8000-0000000000ff"
)

func TestNextInstanceName(t *testing.T) {
	tests := []struct {
		pattern string
		n       int
		want    string
	}{
		{"trs-**", 1, "trs-01"},
		{"trs-**", 2, "trs-02"},
		{"trs-**", 42, "trs-42"},
		{"trs-**", 99, "trs-99"},
		{"trs-**", 100, "trs-100"},
		{"trs-**", 12345, "trs-12345"},
		{"trs-*", 0, "trs-0"},
		{"***", 7, "007"},
		{"pc*-room*", 5, "pc0-room5"},
		{"pc*-room*", 123, "pc12-room3"},
		{"a-****-b", 31, "a-0031-b"},
		{"плк-**", 3, "плк-03"},
		{"no-stars-", 4, "no-stars-4"},
		{"trs-**", -1, "trs-00"},
	}
	for _, tt := range tests {
		if got := desktop.NextInstanceName(tt.pattern, tt.n); got != tt.want {
			t.Errorf("NextInstanceName(%q, %d) = %q, want %q", tt.pattern, tt.n, got, tt.want)
		}
	}
}

func TestCheckInstanceNamePattern(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{"trs-**", true},
		{"*", true},
		{"pc*-room*", true},
		{"trs-", false},
		{"", false},
		{"   ", false},
		{"trs **", false},
		{"a/**", false},
	}
	for _, tt := range tests {
		err := desktop.CheckInstanceNamePattern(tt.pattern)
		if (err == nil) != tt.ok {
			t.Errorf("CheckInstanceNamePattern(%q) = %v, want ok=%v", tt.pattern, err, tt.ok)
		}
		if err != nil && core.ErrorField(err) != "instance_name_pattern" {
			t.Errorf("field = %q", core.ErrorField(err))
		}
	}
}

func TestCheckInitScript(t *testing.T) {
	tests := []struct {
		script string
		ok     bool
	}{
		{"", true},
		{"IyEvYmluL3NoCmVjaG8gJ0hlbGxvIGZyb20gdGhlIGRldiB0ZWFtISc=", true},
		{"aGk=", true},
		{"aGk", false}, // unpadded
		{"not base64!", false},
		{"#!/bin/sh\necho hi", false},
	}
	for _, tt := range tests {
		err := desktop.CheckInitScript(tt.script)
		if (err == nil) != tt.ok {
			t.Errorf("CheckInitScript(%q) = %v, want ok=%v", tt.script, err, tt.ok)
		}
		if err != nil && (core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != "instance_init_script") {
			t.Errorf("err = %v (field %q)", err, core.ErrorField(err))
		}
	}
}

func poolInput(name string) desktop.PoolInput {
	return desktop.PoolInput{Name: &name, FlavorID: ptrTo(flavorSmall), ImageID: ptrTo(imageSample)}
}

func ptrTo[T any](v T) *T { return &v }

func wantField(t *testing.T, err error, kind core.Kind, field string) {
	t.Helper()
	wantKind(t, err, kind)
	if got := core.ErrorField(err); got != field {
		t.Fatalf("field = %q (%v), want %q", got, err, field)
	}
}

func TestPoolCreateDefaultsAndGet(t *testing.T) {
	e := testenv.NewWith(t, testenv.Options{Desktop: desktop.Config{Defaults: desktop.PoolDefaults{MinReserveVM: 2, AvailabilityZone: "zone-a"}}})
	ctx := e.AdminCtx()

	d, err := e.Desktop.PoolDefaults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.OperationMode != desktop.ModeStandard || d.InstanceNamePattern != "trs-**" || d.AvailabilityZone != "zone-a" ||
		d.MinReserveVM != 2 || d.VolumeSize != 1 {
		t.Fatalf("defaults = %+v", d)
	}

	p, err := e.Desktop.CreatePool(ctx, poolInput("  lab  "))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "lab" || !p.Enabled || p.DomainID != "default" || p.ParentID != "default" ||
		p.OperationMode != desktop.ModeStandard || p.InstanceNamePattern != "trs-**" || p.AvailabilityZone != "zone-a" ||
		p.MinReserveVM != 2 || p.VolumeSize != 1 || p.Tags == nil {
		t.Fatalf("created = %+v", p)
	}
	got, err := e.Desktop.GetPool(ctx, p.ID)
	if err != nil || got.Name != "lab" || got.FlavorID != flavorSmall || got.ImageID != imageSample {
		t.Fatalf("get = %+v, %v", got, err)
	}
	_, err = e.Desktop.GetPool(ctx, unknownID)
	wantKind(t, err, core.KindNotFound)
	_, err = e.Desktop.GetPool(ctx, "not-an-id")
	wantKind(t, err, core.KindNotFound)

	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{TargetID: &p.ID})
	if err != nil || len(evs) != 1 || evs[0].Action != "trs_project.create" || evs[0].Actor != "admin" {
		t.Fatalf("audit = %+v, %v", evs, err)
	}
}

func TestPoolValidation(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	mod := func(f func(*desktop.PoolInput)) desktop.PoolInput {
		in := poolInput("p")
		f(&in)
		return in
	}
	tests := []struct {
		name  string
		in    desktop.PoolInput
		field string
	}{
		{"no name", mod(func(in *desktop.PoolInput) { in.Name = nil }), "name"},
		{"blank name", mod(func(in *desktop.PoolInput) { in.Name = ptrTo(" ") }), "name"},
		{"no flavor", mod(func(in *desktop.PoolInput) { in.FlavorID = nil }), "flavor_id"},
		{"unknown flavor", mod(func(in *desktop.PoolInput) { in.FlavorID = ptrTo(unknownID) }), "flavor_id"},
		{"malformed flavor", mod(func(in *desktop.PoolInput) { in.FlavorID = ptrTo("small") }), "flavor_id"},
		{"no image", mod(func(in *desktop.PoolInput) { in.ImageID = nil }), "image_id"},
		{"unknown image", mod(func(in *desktop.PoolInput) { in.ImageID = ptrTo(unknownID) }), "image_id"},
		{"bad mode", mod(func(in *desktop.PoolInput) { in.OperationMode = ptrTo(3) }), "operation_mode"},
		{"bad pattern", mod(func(in *desktop.PoolInput) { in.InstanceNamePattern = ptrTo("trs-") }), "instance_name_pattern"},
		{"bad base64", mod(func(in *desktop.PoolInput) { in.InstanceInitScript = ptrTo("#!/bin/sh") }), "instance_init_script"},
		{"negative reserve", mod(func(in *desktop.PoolInput) { in.MinReserveVM = ptrTo(-1) }), "min_reserve_vm"},
		{"negative volume", mod(func(in *desktop.PoolInput) { in.VolumeSize = ptrTo(-1) }), "volume_size"},
		{"negative quota", mod(func(in *desktop.PoolInput) { in.MaxInstances = ptrTo(-1) }), "max_instances"},
		{"empty tag", mod(func(in *desktop.PoolInput) { in.Tags = ptrTo([]string{""}) }), "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Desktop.CreatePool(ctx, tt.in)
			wantField(t, err, core.KindInvalid, tt.field)
		})
	}
	// Nothing was stored or audited.
	list, total, err := e.Desktop.ListPools(ctx, desktop.PoolFilter{})
	if err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("projects after failures = %d, %v", total, err)
	}
}

func TestPoolNamesUniqueInDomain(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a, err := e.Desktop.CreatePool(ctx, poolInput("lab"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Desktop.CreatePool(ctx, poolInput("lab"))
	wantField(t, err, core.KindConflict, "name")
	in := poolInput("lab")
	in.DomainID = ptrTo("d2")
	b, err := e.Desktop.CreatePool(ctx, in)
	if err != nil {
		t.Fatalf("same name in another domain: %v", err)
	}
	// Renaming onto a taken name, or moving into a domain that has it, conflicts.
	c, err := e.Desktop.CreatePool(ctx, poolInput("other"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Desktop.UpdatePool(ctx, c.ID, desktop.PoolInput{Name: ptrTo("lab")})
	wantField(t, err, core.KindConflict, "name")
	_, err = e.Desktop.UpdatePool(ctx, b.ID, desktop.PoolInput{DomainID: ptrTo("default")})
	wantField(t, err, core.KindConflict, "name")
	if got, _ := e.Desktop.GetPool(ctx, a.ID); got.Name != "lab" || got.DomainID != "default" {
		t.Fatalf("a changed: %+v", got)
	}
}

func TestPoolUpdateAndList(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a, err := e.Desktop.CreatePool(ctx, poolInput("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Desktop.CreatePool(ctx, poolInput("b"))
	if err != nil {
		t.Fatal(err)
	}
	script := "IyEvYmluL3NoCmVjaG8gJ0hlbGxvIGZyb20gdGhlIGRldiB0ZWFtISc="
	u, err := e.Desktop.UpdatePool(ctx, a.ID, desktop.PoolInput{
		FlavorID: ptrTo(flavorMedium), OperationMode: ptrTo(desktop.ModeSimultaneous), InstanceInitScript: &script,
		Enabled: ptrTo(false), NetworkID: ptrTo("net-1"), MaxInstances: ptrTo(5), InstanceNamePattern: ptrTo("pc-***"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.FlavorID != flavorMedium || u.OperationMode != 2 || u.InstanceInitScript != script || u.Enabled ||
		u.NetworkID != "net-1" || u.MaxInstances != 5 || u.InstanceNamePattern != "pc-***" || u.ImageID != imageSample || u.Name != "a" {
		t.Fatalf("updated = %+v", u)
	}
	// Invalid updates change nothing.
	_, err = e.Desktop.UpdatePool(ctx, a.ID, desktop.PoolInput{ImageID: ptrTo(unknownID), Name: ptrTo("zzz")})
	wantField(t, err, core.KindInvalid, "image_id")
	_, err = e.Desktop.UpdatePool(ctx, a.ID, desktop.PoolInput{OperationMode: ptrTo(0)})
	wantField(t, err, core.KindInvalid, "operation_mode")
	_, err = e.Desktop.UpdatePool(ctx, unknownID, desktop.PoolInput{Name: ptrTo("x")})
	wantKind(t, err, core.KindNotFound)
	got, _ := e.Desktop.GetPool(ctx, a.ID)
	if got.Name != "a" || got.ImageID != imageSample {
		t.Fatalf("after failed updates = %+v", got)
	}

	list, total, err := e.Desktop.ListPools(ctx, desktop.PoolFilter{Enabled: ptrTo(true)})
	if err != nil || total != 1 || list[0].ID != b.ID {
		t.Fatalf("enabled = %d %v", total, err)
	}
	list, total, err = e.Desktop.ListPools(ctx, desktop.PoolFilter{OperationMode: ptrTo(2)})
	if err != nil || total != 1 || list[0].ID != a.ID {
		t.Fatalf("mode 2 = %d %v", total, err)
	}
	_, _, err = e.Desktop.ListPools(ctx, desktop.PoolFilter{OperationMode: ptrTo(7)})
	wantField(t, err, core.KindInvalid, "operation_mode")

	evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{TargetID: &a.ID})
	if err != nil || len(evs) != 2 {
		t.Fatalf("audit = %d, %v", len(evs), err)
	}
}

func TestPoolStatistics(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	p, err := e.Desktop.CreatePool(ctx, poolInput("stats"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.Desktop.CreatePool(ctx, poolInput("other"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Machine.PoolStatistics(ctx, p.ID)
	if err != nil || *st != (machine.PoolStats{}) {
		t.Fatalf("empty stats = %+v, %v", st, err)
	}
	srv := e.Server(t, "s1", 10)
	states := []core.InstanceState{core.StateActive, core.StateActive, core.StateActive, core.StateError,
		core.StateBuilding, core.StateStopped, core.StateDeleted}
	for i, state := range states {
		in := &core.Instance{Name: desktop.NextInstanceName(p.InstanceNamePattern, i+1), ServerID: srv.ID, ProjectID: p.ID, State: state}
		if err := e.Store.CreateInstance(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Store.CreateInstance(context.Background(), &core.Instance{Name: "x-1", ServerID: srv.ID, ProjectID: other.ID, State: core.StateActive}); err != nil {
		t.Fatal(err)
	}
	st, err = e.Machine.PoolStatistics(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := machine.PoolStats{Created: 6, Active: 3, Error: 1, Free: 3}
	if *st != want {
		t.Fatalf("stats = %+v, want %+v", *st, want)
	}
	_, err = e.Machine.PoolStatistics(ctx, unknownID)
	wantKind(t, err, core.KindNotFound)
}

func TestCatalogue(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	flavors, total, err := e.Catalogue.ListFlavors(ctx, core.Page{})
	if err != nil || total != 3 || flavors[0].Name != "trs.small" {
		t.Fatalf("flavors = %d %v", total, err)
	}
	f, err := e.Catalogue.CreateFlavor(ctx, core.FlavorInput{Name: "trs.xl", VCPUs: 8, RAM: 16384, Disk: 160})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Catalogue.GetFlavor(ctx, f.ID); err != nil || got.Name != "trs.xl" || got.RAM != 16384 {
		t.Fatalf("get flavor = %+v, %v", got, err)
	}
	_, err = e.Catalogue.CreateFlavor(ctx, core.FlavorInput{Name: "trs.xl", VCPUs: 1, RAM: 1})
	wantField(t, err, core.KindConflict, "name")
	_, err = e.Catalogue.CreateFlavor(ctx, core.FlavorInput{Name: "z", VCPUs: 0, RAM: 1})
	wantField(t, err, core.KindInvalid, "vcpus")
	_, err = e.Catalogue.CreateFlavor(ctx, core.FlavorInput{Name: "", VCPUs: 1, RAM: 1})
	wantField(t, err, core.KindInvalid, "name")
	_, err = e.Catalogue.GetFlavor(ctx, "small")
	wantKind(t, err, core.KindNotFound)

	// A new flavor and an own image can be named by a project.
	u1 := newMember(t, e, "u1")
	own, err := e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "lab image", Ref: "lab:1", Zone: core.ZoneOwn, Owner: "u1", OSType: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "x", Ref: "x:1", Zone: core.ZoneOwn})
	wantField(t, err, core.KindInvalid, "owner_id")
	_, err = e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "x", Ref: "x:1", Zone: "private"})
	wantField(t, err, core.KindInvalid, "zone")
	_, err = e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "x"})
	wantField(t, err, core.KindInvalid, "ref")
	pub, err := e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "pub image", Ref: "pub:1", Owner: u1.ID})
	if err != nil || pub.Zone != core.ZonePub || pub.OwnerID != "" || own.OwnerID != u1.ID {
		t.Fatalf("pub image = %+v, %v (own %+v)", pub, err, own)
	}
	// The owner is a user, named by name or id.
	_, err = e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "x", Ref: "x:1", Zone: core.ZoneOwn, Owner: "nobody"})
	wantField(t, err, core.KindNotFound, "owner")
	_, err = e.Catalogue.CreateImage(ctx, core.ImageInput{Name: "x", Ref: "x:1", Owner: "nobody"})
	wantField(t, err, core.KindNotFound, "owner")

	member := func(id string) context.Context {
		return core.WithActor(context.Background(), core.Actor{UserID: id, Name: id, Role: core.RoleMember})
	}
	count := func(ctx context.Context) int {
		t.Helper()
		_, n, err := e.Catalogue.ListImages(ctx, core.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if all, n1, n2 := count(ctx), count(member(u1.ID)), count(member("u2")); all != 5 || n1 != 5 || n2 != 4 {
		t.Fatalf("images: all %d, u1 %d, u2 %d", all, n1, n2)
	}
	// What a list leaves out cannot be read one by one either: one rule.
	for _, c := range []context.Context{ctx, member(u1.ID)} {
		if got, err := e.Catalogue.GetImage(c, own.ID); err != nil || got.Ref != "lab:1" {
			t.Fatalf("get image = %+v, %v", got, err)
		}
	}
	_, err = e.Catalogue.GetImage(member("u2"), own.ID)
	wantKind(t, err, core.KindNotFound)

	in := poolInput("uses new")
	in.FlavorID, in.ImageID = &f.ID, &own.ID
	if _, err := e.Desktop.CreatePool(ctx, in); err != nil {
		t.Fatal(err)
	}
}
