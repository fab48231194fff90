package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"hostdeck/core"
)

// TestWriteStdin gives the sample app its owner password on stdin before its
// container starts: it comes up healthy with the password set, the password is
// nowhere in what the engine shows of the container (its inspect, its logs), a
// second password written to the running container replaces the first, and a
// restart needs none.
func TestWriteStdin(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	d := New(Options{})
	t.Cleanup(func() { d.Close() })
	spec := testSpec(t, d, "stdin")
	spec.Stdin = true
	cli, _ := d.Client(local)

	ref, err := d.Create(ctx, local, spec)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Stdin-" + "battery-staple-7"
	if err := d.WriteStdin(ctx, local, ref, []byte(pw+"\n")); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, d, ref, "healthy", healthy)
	if page := get(t, st.URL); !strings.Contains(page, "Owner password: set") {
		t.Fatalf("page: %s", page)
	}
	record := func() string {
		t.Helper()
		res, err := d.Exec(ctx, local, ref, []string{"/hostdeck", "sample-app", "read-file", "/data/owner-password"}, nil)
		if err != nil || res.ExitCode != 0 || !strings.HasPrefix(res.Stdout, "pbkdf2-sha256$") || strings.Contains(res.Stdout, pw) {
			t.Fatalf("stored password: %+v, %v", res, err)
		}
		return res.Stdout
	}
	first := record()

	ins, err := cli.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := ins.Container.Config; !c.OpenStdin || c.StdinOnce {
		t.Fatalf("stdin open %v, once %v", c.OpenStdin, c.StdinOnce)
	}
	shown, _ := json.Marshal(ins.Container)
	logs, err := cli.ContainerLogs(ctx, ref, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	stdcopy.StdCopy(&out, &out, logs)
	logs.Close()
	if bytes.Contains(shown, []byte(pw)) || strings.Contains(out.String(), pw) {
		t.Fatal("the password shows in the container's inspect or logs")
	}

	// The attach ended, stdin stays open: the running app takes another one.
	if err := d.WriteStdin(ctx, local, ref, []byte("Stdin-second-8\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for record() == first {
		if time.Now().After(deadline) {
			t.Fatal("the second password was not taken")
		}
		time.Sleep(20 * time.Millisecond)
	}
	second := record()

	if err := d.Restart(ctx, local, ref); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, ref, "healthy after restart", healthy)
	if record() != second {
		t.Fatal("the password changed across a restart")
	}

	if err := d.WriteStdin(ctx, local, "hdtest-missing", []byte("x\n")); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("write stdin of a missing container: %v", err)
	}
}
