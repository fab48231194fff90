package docker

import (
	"bytes"
	"context"
	"testing"

	"hostdeck/core"
)

// TestUsage writes a file into a container's volume and serves a few health
// checks, then reads its usage: the volume holds at least the file, and the
// container has sent bytes.
func TestUsage(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	ref, err := d.Create(ctx, local, testSpec(t, d, "usage"))
	if err != nil {
		t.Fatal(err)
	}
	// Stopped: volume size only, no egress.
	u, err := d.Usage(ctx, local, ref)
	if err != nil || u.EgressBytes != 0 {
		t.Fatalf("usage of a stopped container = %+v, %v", u, err)
	}
	if err := d.Start(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, d, ref, "healthy", healthy)
	const size = 256 << 10
	res, err := d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "write-file", "/data/blob"}, bytes.Repeat([]byte("x"), size))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("write-file: %+v, %v", res, err)
	}
	for range 3 {
		get(t, st.URL+"/healthz")
	}
	u, err = d.Usage(ctx, local, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("usage: %+v", u)
	if u.StoredBytes < size {
		t.Errorf("stored bytes = %d, want at least %d", u.StoredBytes, size)
	}
	if u.EgressBytes <= 0 {
		t.Errorf("egress bytes = %d, want > 0 after serving requests", u.EgressBytes)
	}

	if _, err := d.Usage(ctx, local, "hdtest-missing-usage"); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("missing container: %v", err)
	}
}
