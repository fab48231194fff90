package main

import (
	"os"
	"path/filepath"
	"testing"
)

// An earlier version's data directory has the simulator's state in
// sim-state.json: the first start moves it to sim.db (which the simulator
// converts), and later starts leave sim.db alone.
func TestSimStateFileUpgrade(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "sim-state.json")
	if err := os.WriteFile(old, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, err := simStateFile(dir)
	if err != nil || path != filepath.Join(dir, "sim.db") {
		t.Fatalf("simStateFile = %q, %v", path, err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "{}" {
		t.Fatalf("sim.db holds %q, %v; want the old state", b, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("sim-state.json is still there: %v", err)
	}
	// A later start: an old file that appears again is not taken over sim.db.
	if err := os.WriteFile(old, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := simStateFile(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{}" {
		t.Fatalf("sim.db was replaced: %q", b)
	}
}
