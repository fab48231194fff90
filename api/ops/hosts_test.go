package ops_test

import (
	"slices"
	"testing"
)

// TestHosts: hosts are hostdeck's servers, added here or elsewhere; a user
// sees those it holds view_host on.
func TestHosts(t *testing.T) {
	stores(t, func(t *testing.T, s *site) {
		h := s.as("POST", "/hosts/", map[string]any{"name": "web-1", "host_type": "PHY_HOST", "location": "hangzhou", "os_type": "centos-7",
			"cpu": 8, "memory": 16384, "ip_adress": []any{map[string]any{"address": "10.0.0.5", "addr_type": "PRIVATE", "network": "10.0.0.0", "netmask": "255.255.255.0"}}}).want(t, 201)
		id := h.num("id")
		if h.str("status") != "raw" || h.str("host_type") != "PHY_HOST" || h.str("ip_address.0.address") != "10.0.0.5" || h.str("ip_address.0.owner") != "HOST" || h.num("memory") != 16384 {
			t.Fatalf("added %s", h.raw)
		}
		// A host's page asks its runtime (the simulator): it answers.
		if got := s.as("GET", path("/hosts/%v/", id), nil).want(t, 200).str("os_status"); got != "running" {
			t.Errorf("os_status %q", got)
		}
		srv := s.env.Server(t, "db-1", 2) // a server added elsewhere is a host
		if got := s.as("GET", "/hosts/?host_type=PHY_HOST", nil).names("name"); !slices.Equal(got, []string{"web-1"}) {
			t.Errorf("host_type=PHY_HOST: %v", got)
		}
		if got := s.as("GET", "/hosts/?name=db-1", nil).names("id"); !slices.Equal(got, []string{ftoa(float64(srv.Number))}) {
			t.Errorf("name=db-1: %v", got)
		}
		s.as("POST", "/hosts/", map[string]any{"name": "x", "host_type": "MAINFRAME"}).code(t, 400, 10006)
		s.as("POST", "/hosts/", map[string]any{"name": "x", "ip_address": []any{map[string]any{"address": "not-an-ip"}}}).code(t, 400, 10006)
		s.as("PATCH", path("/hosts/%v/", id), map[string]any{"description": "front"}).want(t, 200)

		// A member sees exactly the hosts it may view.
		uid, basic := s.user("noor")
		if n := s.call("GET", "/hosts/", basic, nil).want(t, 200).num("count"); n != 0 {
			t.Errorf("a member without grants sees %v hosts", n)
		}
		s.as("PATCH", path("/hosts/%v/authorization/users/", id), []any{map[string]any{"user": map[string]any{"id": uid}, "permission": map[string]any{"view_host": true}}}).want(t, 200)
		if got := s.call("GET", "/hosts/", basic, nil).names("name"); !slices.Equal(got, []string{"web-1"}) {
			t.Errorf("member sees %v", got)
		}
		s.call("PATCH", path("/hosts/%v/", id), basic, map[string]any{"description": "mine"}).code(t, 403, 10003)
		s.call("GET", path("/hosts/%v/", srv.Number), basic, nil).code(t, 403, 10003)

		s.as("DELETE", path("/hosts/%v/", id), nil).want(t, 200)
		s.as("GET", path("/hosts/%v/", id), nil).code(t, 404, 10004)
		if got := s.as("GET", "/audit/host-operations/?hostname=db-1", nil).names("op_type"); !slices.Equal(got, []string{"add"}) {
			t.Errorf("db-1's operations %v", got)
		}
		if got := s.as("GET", "/audit/host-operations/?op_type=delete", nil).names("hostname"); len(got) != 1 {
			t.Errorf("deletes %v", got)
		}
	})
}
