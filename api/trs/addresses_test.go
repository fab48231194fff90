package trs_test

import (
	"net/http"
	"net/netip"
	"testing"

	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/desktop/provision"
	"hostdeck/internal/testenv"
)

// TestServerAddresses: os_server.addresses holds each machine's address under
// the name of the network it is on, Nova's shape: the project's own network, or
// the one named after the project's network_id.
func TestServerAddresses(t *testing.T) {
	env, c, _ := start(t, trs.Options{})
	c.token, _ = login(t, c, testenv.AdminUser, testenv.AdminPassword, "")
	env.Server(t, "node-1", 20)

	project := func(name, extra string) string {
		return get(c.do("POST", "/v1/projects/", `{"project":{"name":"`+name+`","flavor_id":"`+smallFlavor+`","image_id":"`+sampleImage+`",
			"operation_mode":"2"`+extra+`}}`).must(t, http.StatusOK).body, "project", "id").(string)
	}
	own := project("own", "")
	shared := project("shared", `,"network_id":"39523179-37b5-4fd7-bf14-a1f7134a6b1f"`)

	addresses := func(pid string) (string, []any) {
		t.Helper()
		sids := ids(t, c.do("POST", "/v1/servers/", `{"server":{"project_id":"`+pid+`"}}`).must(t, http.StatusOK).body["servers"], "id")
		tasks, _, err := env.Svc.ListTasks(env.AdminCtx(), core.TaskFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range tasks {
			if tk.Kind == provision.KindMachineCreate {
				if got := env.WaitTask(t, tk.ID); got.Status != core.TaskSuccess {
					t.Fatalf("task %s: %s", got.Status, got.Error)
				}
			}
		}
		one := c.do("GET", "/v1/servers/"+sids[0]+"?with_os_object=true", "").must(t, http.StatusOK)
		addrs, _ := get(one.body, "server", "os_server", "addresses").(map[string]any)
		if len(addrs) != 1 {
			t.Fatalf("addresses = %s", one.raw)
		}
		for name, list := range addrs {
			l, _ := list.([]any)
			return name, l
		}
		return "", nil
	}
	seen := map[string]bool{}
	for _, tc := range []struct{ pid, want string }{
		{own, "hostdeck-trs-" + own},
		{own, "hostdeck-trs-" + own},
		{shared, "hostdeck-net-39523179-37b5-4fd7-bf14-a1f7134a6b1f"},
	} {
		name, list := addresses(tc.pid)
		if name != tc.want || len(list) != 1 {
			t.Fatalf("addresses under %q: %v, want %q", name, list, tc.want)
		}
		a := list[0].(map[string]any)
		ip, err := netip.ParseAddr(a["addr"].(string))
		if err != nil || !ip.Is4() || a["version"] != float64(4) || a["OS-EXT-IPS:type"] != "fixed" || seen[ip.String()] {
			t.Fatalf("address = %v", a)
		}
		seen[ip.String()] = true
	}
}
