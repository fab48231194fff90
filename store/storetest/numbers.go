package storetest

import (
	"context"
	"sync"
	"testing"

	"hostdeck/core"
)

// testNumbers: users, groups and servers are numbered as they are created,
// from 1, each kind on its own, never twice (concurrent creators included), and
// a number finds its record.
func testNumbers(t *testing.T, s Store) {
	ctx := context.Background()
	seen := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	users := make([]*core.User, 8)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := &core.User{Name: "numbered-" + string(rune('a'+i)), Phone: "+1 555 0100"}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if u.Number <= 0 || seen[u.Number] {
				t.Errorf("user %s got number %d (seen: %v)", u.Name, u.Number, seen)
			}
			seen[u.Number] = true
			users[i] = u
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, u := range users {
		id, err := s.IDByNumber(ctx, core.NumberUser, u.Number)
		if err != nil || id != u.ID {
			t.Errorf("user number %d: %q, %v; want %s", u.Number, id, err, u.ID)
		}
		got, err := s.GetUser(ctx, u.ID)
		if err != nil || got.Number != u.Number || got.Phone != "+1 555 0100" {
			t.Errorf("GetUser: %+v, %v; want number %d and its phone", got, err, u.Number)
		}
	}
	g := &core.Group{Name: "numbered", Creator: "admin"}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	srv := &core.Server{Name: "numbered", Runtime: "sim", Capacity: 1}
	if err := s.CreateServer(ctx, srv); err != nil {
		t.Fatal(err)
	}
	if g.Number != 1 || srv.Number != 1 {
		t.Errorf("first group and server numbers: %d, %d; want 1 each (a kind counts on its own)", g.Number, srv.Number)
	}
	if got, err := s.GetGroup(ctx, g.ID); err != nil || got.Number != g.Number || got.Creator != "admin" {
		t.Errorf("GetGroup: %+v, %v", got, err)
	}
	if got, err := s.GetServer(ctx, srv.ID); err != nil || got.Number != srv.Number {
		t.Errorf("GetServer: %+v, %v", got, err)
	}
	if _, err := s.IDByNumber(ctx, core.NumberGroup, 99); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("unknown number: %v; want not found", err)
	}
	phone := "+44 20 7946 0000"
	if u, err := s.UpdateUser(ctx, users[0].ID, core.UserUpdate{Phone: &phone}); err != nil || u.Phone != phone {
		t.Errorf("UpdateUser phone: %+v, %v", u, err)
	}
}

// testAuditNumbers: audit events are numbered as they are written, each once,
// concurrent writers included, and read back with their numbers.
func testAuditNumbers(t *testing.T, s Store) {
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &core.AuditEvent{Actor: "t", Action: "test.numbered", TargetType: "test", TargetID: string(rune('a' + i))}
			if err := s.AddAudit(ctx, e); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if e.Number <= 0 || seen[e.Number] {
				t.Errorf("event numbered %d (seen %v)", e.Number, seen)
			}
			seen[e.Number] = true
		}()
	}
	wg.Wait()
	evs, _, err := s.ListAudit(ctx, core.AuditFilter{Action: ptr("test.numbered"), Page: core.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 20 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		if !seen[e.Number] {
			t.Errorf("event %s read back with number %d", e.ID, e.Number)
		}
	}
}
