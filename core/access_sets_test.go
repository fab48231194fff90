package core_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/internal/testenv"
)

// TestChangeGrants: a permission set is saved as a whole, in one transaction:
// only the flags that change are written, returned and audited (one event
// each, naming the grantee), a change that fails leaves every grant as it
// was, and a member changes nothing.
func TestChangeGrants(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	sam, tess := newMember(t, e, "sam"), newMember(t, e, "tess")
	name := "deployers"
	g, err := e.Identity.CreateGroup(ctx, identity.GroupInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	toSam := core.Grantee{Kind: core.GranteeUser, ID: sam.ID}
	toTess := core.Grantee{Kind: core.GranteeUser, ID: tess.ID}
	toGroup := core.Grantee{Kind: core.GranteeGroup, ID: g.ID}
	samView := core.Grant{Grantee: toSam, Action: core.ActionApplicationView, ResourceID: "app-1"}
	groupDeploy := core.Grant{Grantee: toGroup, Action: core.ActionApplicationDeploy}
	tessLogin := core.Grant{Grantee: toTess, Action: core.ActionServerLogin, ResourceID: "host-1"}

	audited := func(action string) []*core.AuditEvent {
		t.Helper()
		evs, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: &action, Page: core.Page{Sort: []string{"at", "id"}}})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	grantsHeld := func() int {
		t.Helper()
		_, n, err := e.Svc.ListGrants(ctx, core.GrantFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Granting what is held, or revoking what is not, is no change.
	got, err := e.Svc.ChangeGrants(ctx, []core.GrantChange{
		{Grant: samView}, {Grant: groupDeploy}, {Grant: samView}, {Grant: tessLogin, Remove: true}, {Grant: tessLogin},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []core.GrantChange{{Grant: samView}, {Grant: groupDeploy}, {Grant: tessLogin}}
	if d := cmp.Diff(want, withoutTimes(got)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if got[0].Grant.CreatedAt.IsZero() {
		t.Error("a grant given has no time")
	}
	adds := audited("grant.add")
	if len(adds) != 3 {
		t.Fatalf("%d grant.add events, want 3: %+v", len(adds), adds)
	}
	for i, w := range []struct{ typ, id, grantee string }{
		{"application", "app-1", "sam"}, {"module", "application", "deployers"}, {"server", "host-1", "tess"}, // a grant on every application is on its module
	} {
		var detail map[string]any
		if err := json.Unmarshal(adds[i].Detail, &detail); err != nil {
			t.Fatal(err)
		}
		if adds[i].TargetType != w.typ || adds[i].TargetID != w.id || detail["grantee_name"] != w.grantee || detail["action"] == nil {
			t.Errorf("event %d: %s/%s %s, want %s/%s by %s", i, adds[i].TargetType, adds[i].TargetID, adds[i].Detail, w.typ, w.id, w.grantee)
		}
	}

	// Saved again with one flag off: only that flag changes.
	got, err = e.Svc.ChangeGrants(ctx, []core.GrantChange{{Grant: samView}, {Grant: groupDeploy, Remove: true}, {Grant: tessLogin}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]core.GrantChange{{Grant: groupDeploy, Remove: true}}, withoutTimes(got)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if n := len(audited("grant.add")); n != 3 {
		t.Errorf("%d grant.add events after no new grant", n)
	}
	if removes := audited("grant.remove"); len(removes) != 1 || removes[0].TargetType != "module" || removes[0].TargetID != "application" {
		t.Errorf("grant.remove events: %+v", removes)
	}
	if got, err := e.Svc.ChangeGrants(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no changes: %v, %v", got, err)
	}

	// One transaction: a change that fails undoes those before it.
	held, events := grantsHeld(), len(audited("grant.add"))
	fresh := core.Grant{Grantee: toTess, Action: core.ActionApplicationEdit, ResourceID: "app-2"}
	for _, bad := range []struct {
		c    core.GrantChange
		kind core.Kind
	}{
		{core.GrantChange{Grant: core.Grant{Grantee: toTess, Action: "application.explode"}}, core.KindInvalid},
		{core.GrantChange{Grant: core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: core.NewID()}, Action: core.ActionServerView}}, core.KindNotFound},
		{core.GrantChange{Grant: core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: sam.ID}, Action: core.ActionServerView}, Remove: true}, core.KindNotFound},
		{core.GrantChange{Grant: core.Grant{Grantee: core.Grantee{Kind: "robot", ID: sam.ID}, Action: core.ActionServerView}}, core.KindInvalid},
	} {
		_, err := e.Svc.ChangeGrants(ctx, []core.GrantChange{{Grant: fresh}, {Grant: samView, Remove: true}, bad.c})
		if core.ErrorKind(err) != bad.kind {
			t.Errorf("change %+v: %v, want %s", bad.c, err, bad.kind)
		}
	}
	if n, evs := grantsHeld(), len(audited("grant.add")); n != held || evs != events {
		t.Errorf("after failed changes: %d grants (was %d), %d events (was %d)", n, held, evs, events)
	}

	// A member changes and lists nothing.
	if _, err := e.Svc.ChangeGrants(memberCtx(sam), []core.GrantChange{{Grant: fresh}}); core.ErrorKind(err) != core.KindForbidden {
		t.Errorf("a member changes grants: %v", err)
	}
	if _, _, err := e.Svc.ListGrantSets(memberCtx(sam), core.GrantSetFilter{Type: core.ResourceApplication}); core.ErrorKind(err) != core.KindForbidden {
		t.Errorf("a member lists grant sets: %v", err)
	}

	// What is held, read in sets.
	sets, n, err := e.Svc.ListGrantSets(ctx, core.GrantSetFilter{Type: core.ResourceServer})
	if err != nil {
		t.Fatal(err)
	}
	wantSets := []*core.GrantSet{{Grantee: toTess, GranteeName: "tess", GranteeNumber: tess.Number, ResourceID: "host-1", Actions: []core.Action{core.ActionServerLogin}}}
	if d := cmp.Diff(wantSets, sets); d != "" || n != 1 {
		t.Errorf("server sets, %d (-want +got):\n%s", n, d)
	}
	for _, f := range []core.GrantSetFilter{
		{},
		{Type: "spaceship"},
		{Type: core.ResourceServer, GranteeKind: core.Ptr(core.GranteeKind("robot"))},
		{Type: core.ResourceServer, Page: core.Page{Sort: []string{"name"}}},
	} {
		if _, _, err := e.Svc.ListGrantSets(ctx, f); core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("sets of %+v: %v", f, err)
		}
	}
}

// withoutTimes is cs without their grants' times, to compare.
func withoutTimes(cs []core.GrantChange) []core.GrantChange {
	out := make([]core.GrantChange, len(cs))
	for i, c := range cs {
		c.Grant.CreatedAt = time.Time{}
		out[i] = c
	}
	return out
}
