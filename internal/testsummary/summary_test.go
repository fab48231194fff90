package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The streams under testdata were recorded from `go test -json` (Go 1.26) on a
// small module: package good (a pass with a log line, a skip with a message, a
// table whose second subtest skips with a two-line message, a fuzz target), bad
// (a failing subtest and a pass), broken (does not compile), each followed by a
// -fuzz run: FuzzUpper passing, FuzzLen failing. The "fuzz … for …" lines are
// scripts/test's echo, not JSON. passing.jsonl is mixed.jsonl without bad,
// broken and fz.

// TestOutputIsGoTests: everything before the summary is exactly what go test
// printed: every Output field in order, and the lines that are not events.
func TestOutputIsGoTests(t *testing.T) {
	in := readFile(t, "testdata/mixed.jsonl")
	var want strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			want.WriteString(sc.Text() + "\n")
			continue
		}
		want.WriteString(e.Output)
	}
	var out bytes.Buffer
	run(bytes.NewReader(in), &out)
	got, _, found := strings.Cut(out.String(), "\n==== summary:")
	if !found {
		t.Fatalf("no summary in:\n%s", out.String())
	}
	if diff := cmp.Diff(want.String(), got); diff != "" {
		t.Errorf("output before the summary differs from go test's (-want +got):\n%s", diff)
	}
	for _, line := range []string{"--- FAIL: TestFail/sub (0.00s)", "FAIL\texample.test/rec/bad\t0.005s", "ok  \texample.test/rec/good\t0.004s", "PASS", "FAIL\texample.test/rec/broken [build failed]"} {
		if !strings.Contains(got, "\n"+line+"\n") {
			t.Errorf("go test's line %q is missing", line)
		}
	}
}

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	code := run(bytes.NewReader(readFile(t, "testdata/mixed.jsonl")), &out)
	if code != 1 {
		t.Errorf("exit status %d with failures, want 1", code)
	}
	_, got, _ := strings.Cut(out.String(), "\n==== summary:")
	want := ` 6 passed, 2 failed, 2 skipped (tests and subtests); packages: 2 ok, 3 failed, 0 without tests; 2 fuzz runs
skipped:
  example.test/rec/good TestSkip: docker engine not reachable: dial unix /var/run/docker.sock: connect: no such file or directory
  example.test/rec/good TestTable/two: two is skipped on purpose
failed:
  example.test/rec/bad TestFail
  example.test/rec/bad TestFail/sub: got 1, want 2
build failed:
  example.test/rec/broken [example.test/rec/broken.test]
packages failed:
  example.test/rec/bad
  example.test/rec/broken (build failed)
  example.test/rec/fz
fuzz:
  example.test/rec/good FuzzUpper: PASS in 100ms (last: 0s, execs: 219 (2117/sec), new interesting: 4 (total: 5))
  example.test/rec/fz FuzzLen: FAIL in 30ms (last: 0s, minimizing): len("0000") = 4 Failing input written to testdata/fuzz/FuzzLen/81476e3145e0ed8c To re-run: go test -run=FuzzLen/81476e3145e0ed8c
==== FAILED
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestSummaryAllPassed(t *testing.T) {
	var out bytes.Buffer
	if code := run(bytes.NewReader(readFile(t, "testdata/passing.jsonl")), &out); code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, out.String())
	}
	_, got, _ := strings.Cut(out.String(), "\n==== summary:")
	want := ` 5 passed, 0 failed, 2 skipped (tests and subtests); packages: 2 ok, 0 failed, 0 without tests; 1 fuzz runs
skipped:
  example.test/rec/good TestSkip: docker engine not reachable: dial unix /var/run/docker.sock: connect: no such file or directory
  example.test/rec/good TestTable/two: two is skipped on purpose
fuzz:
  example.test/rec/good FuzzUpper: PASS in 100ms (last: 0s, execs: 219 (2117/sec), new interesting: 4 (total: 5))
==== all passed
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// A test binary that dies mid-test (a timeout's panic, os.Exit) leaves tests
// without a result: they count as not finished and the run fails.
func TestSummaryUnfinished(t *testing.T) {
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestHang"}
{"Action":"output","Package":"p","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t1.005s\n"}
{"Action":"fail","Package":"p","Elapsed":1.005}
`
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	for _, want := range []string{"0 passed, 0 failed, 0 skipped, 1 did not finish", "did not finish (the test binary died or timed out):\n  p TestHang\n", "packages failed:\n  p\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}

// Nothing to summarise (go test did not start, say) is a failure, not a pass.
func TestSummaryNothingRan(t *testing.T) {
	var out bytes.Buffer
	if code := run(strings.NewReader("go: cannot find main module\n"), &out); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.HasPrefix(out.String(), "go: cannot find main module\n") || !strings.Contains(out.String(), "no test results in the input") {
		t.Errorf("output:\n%s", out.String())
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The tests' "reliability: …" lines (the figures of the crash, throttle and
// slow-client tests) are gathered under the summary.
func TestSummaryGathersFigures(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestCrash"}
{"Action":"output","Package":"p","Test":"TestCrash","Output":"    crash_test.go:9: reliability: lost=0 of 66\n"}
{"Action":"pass","Package":"p","Test":"TestCrash","Elapsed":1}
{"Action":"pass","Package":"p","Elapsed":1}
`
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "\nreliability figures:\n  lost=0 of 66\n==== all passed\n") {
		t.Errorf("figures not gathered:\n%s", out.String())
	}
}
