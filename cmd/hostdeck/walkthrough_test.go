package main

import (
	"strings"
	"testing"
	"time"

	"hostdeck/core"
)

// waitTaskDone polls an alfa task until it is finished and returns it.
func waitTaskDone(t *testing.T, p *proc, id string, timeout time.Duration) resource {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, got := p.call("GET", "/tasks/"+id, nil)
		if code != 200 || len(got) != 1 {
			t.Fatalf("task %s: %d", id, code)
		}
		if core.TaskStatus(str(got[0], "status")).Done() {
			return got[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s still %s %v%% after %s", id, str(got[0], "status"), got[0].Attributes["progress"], timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAlfaWalkRebootThenDelete follows the README's alfa walk-through on the
// real binary, as a new user would: a server, a client, its reboot and its
// delete at once. The delete supersedes the reboot, which ends at once (revoked,
// or failed saying the instance was deleted) rather than waiting on an instance
// that is gone, and the delete succeeds.
func TestAlfaWalkRebootThenDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	// A reboot of 2s is sure to be under way when the delete comes.
	p := start(t, "HOSTDECK_SIM_DELAY=2s")
	if code, _ := p.call("POST", "/servers/create", map[string]any{"name": "node-1", "capacity": 50, "location": "msk"}); code != 201 {
		t.Fatalf("create server: %d", code)
	}
	code, created := p.call("POST", "/clients/create", map[string]any{"name": "Lab One", "email": "owner@lab.example", "expire_date": "2027-01-31"})
	if code != 202 || len(created) != 1 {
		t.Fatalf("create client: %d", code)
	}
	client := str(created[0], "target_id")
	if tk := waitTaskDone(t, p, created[0].ID, time.Minute); str(tk, "status") != "SUCCESS" {
		t.Fatalf("create client: %s %s", str(tk, "status"), str(tk, "error"))
	}

	code, reboot := p.call("GET", "/clients/"+client+"/reboot", nil)
	if code != 202 {
		t.Fatalf("reboot: %d", code)
	}
	code, del := p.call("DELETE", "/clients/"+client+"/delete", nil)
	if code != 202 {
		t.Fatalf("delete: %d", code)
	}
	asked := time.Now()
	if tk := waitTaskDone(t, p, del[0].ID, 30*time.Second); str(tk, "status") != "SUCCESS" {
		t.Fatalf("delete: %s %s", str(tk, "status"), str(tk, "error"))
	}
	tk := waitTaskDone(t, p, reboot[0].ID, 30*time.Second)
	took := time.Since(asked)
	t.Logf("the reboot ended %s (%s) %s after the delete was asked", str(tk, "status"), str(tk, "error"), took)
	switch str(tk, "status") {
	case "REVOKED":
	case "FAILURE":
		if !strings.Contains(str(tk, "error"), "deleted") {
			t.Errorf("the reboot failed with %q", str(tk, "error"))
		}
	default:
		t.Errorf("the reboot ended %s %s", str(tk, "status"), str(tk, "error"))
	}
	if took > 10*time.Second {
		t.Errorf("the reboot ended %s after the delete", took)
	}
	if _, got := p.call("GET", "/clients/"+client, nil); len(got) != 1 || str(got[0], "status") != "deleted" {
		t.Fatalf("client after delete: %v", got)
	}
}
