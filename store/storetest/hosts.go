package storetest

import (
	"context"
	"testing"

	"hostdeck/core"
)

// testHostRecords: a server keeps its record as a host (kind, stage, system,
// addresses), changed field by field, and a member's list of servers is those
// it holds server.view on through a grant to itself or its group.
func testHostRecords(t *testing.T, s Store) {
	ctx := context.Background()
	web := &core.Server{Name: "web", Runtime: "sim", Capacity: 1, Kind: "PHY_HOST", OSType: "debian-12", CPUs: 4, MemoryMB: 8192,
		Description: "front", Addresses: []core.HostAddress{{Address: "10.0.0.5", Network: "10.0.0.0", Netmask: "255.255.255.0"}, {Address: "203.0.113.5", Public: true}}}
	db := &core.Server{Name: "db", Runtime: "sim", Capacity: 1}
	for _, srv := range []*core.Server{web, db} {
		if err := s.CreateServer(ctx, srv); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetServer(ctx, web.ID)
	if err != nil || got.Stage != core.StageRaw || got.Kind != "PHY_HOST" || got.CPUs != 4 || got.MemoryMB != 8192 ||
		len(got.Addresses) != 2 || !got.Addresses[1].Public || got.Addresses[0].Netmask != "255.255.255.0" {
		t.Fatalf("GetServer: %+v, %v", got, err)
	}
	if got, _ := s.GetServer(ctx, db.ID); got.Addresses == nil || len(got.Addresses) != 0 {
		t.Errorf("a server without addresses: %#v", got.Addresses)
	}
	stage, none := core.StageInited, []core.HostAddress{}
	up, err := s.UpdateServer(ctx, web.ID, core.ServerUpdate{Stage: &stage, Addresses: &none})
	if err != nil || up.Stage != stage || len(up.Addresses) != 0 || up.Kind != "PHY_HOST" {
		t.Errorf("UpdateServer: %+v, %v", up, err)
	}
	kind := "PHY_HOST"
	if l, n, err := s.ListServers(ctx, core.ServerFilter{Kind: &kind}); err != nil || n != 1 || l[0].ID != web.ID {
		t.Errorf("by kind: %v, %d, %v", l, n, err)
	}
	u := &core.User{Name: "viewer"}
	g := &core.Group{Name: "viewers"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMember(ctx, g.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if l, n, err := s.ListServers(ctx, core.ServerFilter{VisibleTo: &u.ID}); err != nil || n != 0 {
		t.Errorf("without grants: %v, %d, %v", l, n, err)
	}
	if _, err := s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeGroup, ID: g.ID}, Action: core.ActionServerView, ResourceID: db.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddGrant(ctx, &core.Grant{Grantee: core.Grantee{Kind: core.GranteeUser, ID: u.ID}, Action: core.ActionServerEdit, ResourceID: web.ID}); err != nil {
		t.Fatal(err)
	}
	if l, n, err := s.ListServers(ctx, core.ServerFilter{VisibleTo: &u.ID}); err != nil || n != 1 || l[0].ID != db.ID {
		t.Errorf("through the group's view grant: %v, %d, %v", l, n, err)
	}
}
