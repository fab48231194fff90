package core_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/desktop/session"
	"hostdeck/core/fleet"
	"hostdeck/core/links"
	"hostdeck/internal/testenv"
)

func TestParseModifier(t *testing.T) {
	tests := []struct {
		raw  string
		want core.Cond
		bad  bool
	}{
		{raw: "p1", want: core.Cond{Op: core.OpEq, Values: []string{"p1"}}},
		{raw: "in:p1,p2", want: core.Cond{Op: core.OpIn, Values: []string{"p1", "p2"}}},
		{raw: "nin:p1", want: core.Cond{Op: core.OpNin, Values: []string{"p1"}}},
		{raw: "neq:true", want: core.Cond{Op: core.OpNeq, Values: []string{"true"}}},
		{raw: "gt:5", want: core.Cond{Op: core.OpGt, Values: []string{"5"}}},
		{raw: "gte:5", want: core.Cond{Op: core.OpGte, Values: []string{"5"}}},
		{raw: "lt:a,b", want: core.Cond{Op: core.OpLt, Values: []string{"a,b"}}},
		{raw: "lte:5", want: core.Cond{Op: core.OpLte, Values: []string{"5"}}},
		{raw: "foo:bar", want: core.Cond{Op: core.OpEq, Values: []string{"foo:bar"}}},
		{raw: "neq:a:b", want: core.Cond{Op: core.OpNeq, Values: []string{"a:b"}}},
		{raw: "", bad: true},
		{raw: "in:", bad: true},
		{raw: "neq:", bad: true},
		{raw: "in:a,,b", bad: true},
		{raw: "nin:a,", bad: true},
		{raw: "in:" + strings.Repeat("a,", 1000) + "a", bad: true},
		{raw: strings.Repeat("a", core.MaxFilterLen+1), bad: true},
		{raw: "neq:" + strings.Repeat("a", core.MaxFilterLen+1), bad: true},
		{raw: "in:a," + strings.Repeat("a", core.MaxFilterLen+1), bad: true},
		{raw: strings.Repeat("a", core.MaxFilterLen), want: core.Cond{Op: core.OpEq, Values: []string{strings.Repeat("a", core.MaxFilterLen)}}},
		{raw: "in:" + strings.Repeat("a,", 999) + strings.Repeat("b", core.MaxFilterLen),
			want: core.Cond{Op: core.OpIn, Values: append(strings.Split(strings.Repeat("a,", 999), ",")[:999], strings.Repeat("b", core.MaxFilterLen))}},
	}
	for _, tt := range tests {
		got, err := core.ParseModifier(tt.raw)
		if tt.bad {
			if core.ErrorKind(err) != core.KindInvalid {
				t.Errorf("%q: err = %v, want invalid", tt.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.raw, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.raw, d)
		}
	}
}

func TestCondMatch(t *testing.T) {
	tests := []struct {
		raw, v string
		want   bool
	}{
		{"a", "a", true}, {"a", "b", false},
		{"neq:a", "b", true}, {"neq:a", "a", false},
		{"in:a,b", "b", true}, {"in:a,b", "c", false},
		{"nin:a,b", "c", true}, {"nin:a,b", "a", false},
		{"gt:b", "c", true}, {"gt:b", "b", false},
		{"gte:b", "b", true}, {"lt:b", "a", true}, {"lte:b", "c", false},
	}
	for _, tt := range tests {
		c, err := core.ParseModifier(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Match(tt.v); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.raw, tt.v, got, tt.want)
		}
	}
}

func FuzzParseModifier(f *testing.F) {
	for _, s := range []string{"", "a", "in:a,b", "nin:", "neq:x", "gt:1", "lte:", "in:,", ":", "in:a,,b", "\xff:in"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := core.ParseModifier(raw)
		if err != nil {
			if core.ErrorKind(err) != core.KindInvalid {
				t.Fatalf("%q: error of kind %s: %v", raw, core.ErrorKind(err), err)
			}
			return
		}
		if len(c.Values) == 0 {
			t.Fatalf("%q: no values", raw)
		}
		for _, v := range c.Values {
			if v == "" {
				t.Fatalf("%q: empty value", raw)
			}
		}
		_ = c.Match(raw)
	})
}

// Every list use case bounds the values a client gives its filter: a value over
// MaxFilterLen, or an in: list over MaxFilterValues, is KindInvalid about the
// parameter; a value at the limit lists (nothing).
// enumerated names the list filters whose values are enumerated.
var enumerated = map[string]bool{"status": true, "runtime": true, "kind": true}

// An enumerated filter (client, server and task statuses, runtimes, task
// kinds) takes its values only: any other is KindInvalid naming them.
func TestListFilterEnumerated(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	for _, tc := range []struct {
		field     string
		list      func(v string) error
		good, bad []string
		names     string
	}{
		{"status", func(v string) error {
			_, err := e.Cloud.ListClients(ctx, core.ClientFilter{Status: (*core.ClientStatus)(&v)})
			return err
		}, []string{"creating", "active", "failed", "transferring", "deleting", "deleted"}, []string{"Active", "gone", ""},
			"creating, active, failed, transferring, deleting, deleted"},
		{"status", func(v string) error {
			_, _, err := e.Fleet.ListServers(ctx, core.ServerFilter{Status: (*core.ServerStatus)(&v)})
			return err
		}, []string{"active", "disabled"}, []string{"down"}, "active, disabled"},
		{"runtime", func(v string) error {
			_, _, err := e.Fleet.ListServers(ctx, core.ServerFilter{Runtime: &v})
			return err
		},
			[]string{"sim"}, []string{"docker", "SIM"}, "one of sim"},
		{"status", func(v string) error {
			_, _, err := e.Svc.ListTasks(ctx, core.TaskFilter{Status: (*core.TaskStatus)(&v)})
			return err
		}, []string{"PENDING", "STARTED", "SUCCESS", "FAILURE", "RETRY", "REVOKED"}, []string{"success", "DONE"},
			"PENDING, STARTED, SUCCESS, FAILURE, RETRY, REVOKED"},
		{"kind", func(v string) error { _, _, err := e.Svc.ListTasks(ctx, core.TaskFilter{Kind: &v}); return err },
			[]string{cloud.KindClientCreate, provision.KindMachineCreate, fleet.KindReconcile}, []string{"client", "client.create "},
			"client.create, client.delete"},
	} {
		for _, v := range tc.good {
			if err := tc.list(v); err != nil {
				t.Errorf("%s %q: %v", tc.field, v, err)
			}
		}
		for _, v := range tc.bad {
			err := tc.list(v)
			if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != tc.field || !strings.Contains(core.ErrorMessage(err), tc.names) {
				t.Errorf("%s %q: %v (field %q), want invalid naming %s", tc.field, v, err, core.ErrorField(err), tc.names)
			}
		}
	}
}

func TestListFilterBounds(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	in := func(v string) *core.Cond { return &core.Cond{Op: core.OpIn, Values: []string{"a", v}} }
	lists := []struct {
		field string
		list  func(v string) error
	}{
		{"email", func(v string) error { _, err := e.Cloud.ListClients(ctx, core.ClientFilter{Email: &v}); return err }},
		{"name", func(v string) error { _, err := e.Cloud.ListClients(ctx, core.ClientFilter{Name: &v}); return err }},
		{"server_id", func(v string) error {
			_, err := e.Cloud.ListClients(ctx, core.ClientFilter{ServerID: &v})
			return err
		}},
		{"status", func(v string) error {
			_, err := e.Cloud.ListClients(ctx, core.ClientFilter{Status: (*core.ClientStatus)(&v)})
			return err
		}},
		{"runtime", func(v string) error {
			_, _, err := e.Fleet.ListServers(ctx, core.ServerFilter{Runtime: &v})
			return err
		}},
		{"target_id", func(v string) error { _, _, err := e.Svc.ListTasks(ctx, core.TaskFilter{TargetID: &v}); return err }},
		{"kind", func(v string) error { _, _, err := e.Svc.ListTasks(ctx, core.TaskFilter{Kind: &v}); return err }},
		{"actor", func(v string) error { _, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Actor: &v}); return err }},
		{"action", func(v string) error { _, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Action: &v}); return err }},
		{"action", func(v string) error {
			_, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{Actions: []string{"a", v}})
			return err
		}},
		{"detail", func(v string) error {
			_, _, err := e.Svc.ListAudit(ctx, core.AuditFilter{DetailContains: &v})
			return err
		}},
		{"resource_id", func(v string) error {
			_, _, err := e.Svc.ListGrantSets(ctx, core.GrantSetFilter{Type: core.ResourceServer, ResourceIDs: []string{v}})
			return err
		}},
		{"name", func(v string) error { _, err := e.Links.List(ctx, links.LinkFilter{Name: &v}); return err }},
		{"name", func(v string) error { _, _, err := e.Identity.ListUsers(ctx, core.UserFilter{Name: &v}); return err }},
		{"domain_id", func(v string) error {
			_, _, err := e.Identity.ListGroups(ctx, core.GroupFilter{DomainID: &v})
			return err
		}},
		{"type", func(v string) error { _, err := e.Login.ListCredentials(ctx, "", v); return err }},
		{"domain", func(v string) error {
			_, _, err := e.Desktop.ListPools(ctx, desktop.PoolFilter{DomainID: &v})
			return err
		}},
		{"project_id", func(v string) error {
			_, err := e.Machine.ListMachines(ctx, machine.MachineQuery{ProjectID: in(v)})
			return err
		}},
		{"group", func(v string) error {
			_, err := e.Machine.ListMachines(ctx, machine.MachineQuery{GroupID: &v})
			return err
		}},
		{"user_name", func(v string) error {
			_, _, err := e.Session.ListSessions(ctx, session.SessionFilter{UserName: in(v)})
			return err
		}},
		{"instance_name", func(v string) error {
			_, err := e.Session.CountSessions(ctx, session.SessionFilter{InstanceName: &v})
			return err
		}},
		{"volume_id", func(v string) error {
			_, _, err := e.Desktop.ListVolumeAssignments(ctx, core.VolumeAssignmentFilter{VolumeID: in(v)})
			return err
		}},
	}
	for _, l := range lists {
		err := l.list(strings.Repeat("A", core.MaxFilterLen+1))
		if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != l.field || !strings.Contains(core.ErrorMessage(err), "at most") {
			t.Errorf("%s over the limit: %v (field %q)", l.field, err, core.ErrorField(err))
		}
		err = l.list(strings.Repeat("A", core.MaxFilterLen))
		if enumerated[l.field] { // not too long, but no such value (TestListFilterEnumerated)
			if strings.Contains(core.ErrorMessage(err), "at most") {
				t.Errorf("%s at the limit refused as too long: %v", l.field, err)
			}
		} else if err != nil {
			t.Errorf("%s at the limit: %v", l.field, err)
		}
	}
	many := &core.Cond{Op: core.OpNin, Values: strings.Split(strings.Repeat("a,", core.MaxFilterValues)+"a", ",")}
	_, _, err := e.Session.ListSessions(ctx, session.SessionFilter{UserID: many})
	if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != "user_id" {
		t.Errorf("nin: of %d values: %v", len(many.Values), err)
	}
}
