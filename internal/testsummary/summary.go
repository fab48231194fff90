package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string // build-output, build-fail
	FailedBuild string // a package's fail when its build failed
}

// test is one run of a test or subtest. A name may run twice in one stream (a
// fuzz target runs as a test in the suite, then again with -fuzz), so runs are
// kept in order rather than by name alone.
type test struct {
	pkg, name string
	status    string // pass, fail, skip; "" while running
	elapsed   float64
	log       strings.Builder // its output, kept until it passes
	fuzzing   bool            // a -fuzz run: it printed "fuzz: elapsed:" lines
	lastFuzz  string          // the last of those
}

type summary struct {
	out *bufio.Writer

	tests   []*test
	running map[[2]string]*test // package, name → the run in progress

	pkgOK, pkgNoTests int
	pkgFailed         []string // packages that failed, their build included
	buildFailed       []string // import paths whose build failed
	events            int
	figures           []string // the tests' "reliability: …" lines, for the summary
}

func newSummary(out *bufio.Writer) *summary {
	return &summary{out: out, running: map[[2]string]*test{}}
}

// line handles one line of input: an event, or anything else, printed as is.
func (s *summary) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil || e.Action == "" {
		s.out.Write(b)
		if b[len(b)-1] != '\n' {
			s.out.WriteByte('\n')
		}
		return
	}
	s.events++
	switch e.Action {
	case "output", "build-output":
		s.out.WriteString(e.Output)
		if _, fig, ok := strings.Cut(e.Output, "reliability: "); ok {
			s.figures = append(s.figures, strings.TrimSpace(fig))
		}
		if t := s.running[[2]string{e.Package, e.Test}]; t != nil && e.Test != "" {
			t.log.WriteString(e.Output)
			if rest, ok := strings.CutPrefix(e.Output, "fuzz: elapsed:"); ok {
				t.fuzzing, t.lastFuzz = true, strings.TrimSpace(rest)
			}
		}
	case "build-fail":
		s.buildFailed = append(s.buildFailed, e.ImportPath)
	case "run":
		if e.Test != "" {
			t := &test{pkg: e.Package, name: e.Test}
			s.tests = append(s.tests, t)
			s.running[[2]string{e.Package, e.Test}] = t
		}
	case "pass", "fail", "skip":
		if e.Test == "" {
			s.packageDone(e)
			return
		}
		key := [2]string{e.Package, e.Test}
		t := s.running[key]
		if t == nil { // a result without its run event: count it all the same
			t = &test{pkg: e.Package, name: e.Test}
			s.tests = append(s.tests, t)
		}
		delete(s.running, key)
		t.status, t.elapsed = e.Action, e.Elapsed
		if t.status == "pass" && !t.fuzzing {
			t.log = strings.Builder{} // nothing of it is reported
		}
	}
}

func (s *summary) packageDone(e event) {
	switch {
	case e.Action == "pass":
		s.pkgOK++
	case e.Action == "skip":
		s.pkgNoTests++
	case e.FailedBuild != "":
		s.pkgFailed = append(s.pkgFailed, e.Package+" (build failed)")
	default:
		s.pkgFailed = append(s.pkgFailed, e.Package)
	}
}

// ok reports whether everything that ran passed (or skipped), and something ran.
func (s *summary) ok() bool {
	if s.events == 0 || len(s.pkgFailed) > 0 || len(s.buildFailed) > 0 {
		return false
	}
	for _, t := range s.tests {
		if t.status == "fail" || t.status == "" {
			return false
		}
	}
	return true
}

// report prints the summary.
func (s *summary) report() {
	var passed, failed, skipped, unfinished int
	var skips, fails, fuzz, stuck []*test
	for _, t := range s.tests {
		if t.fuzzing {
			fuzz = append(fuzz, t)
			continue
		}
		switch t.status {
		case "pass":
			passed++
		case "fail":
			failed++
			fails = append(fails, t)
		case "skip":
			skipped++
			skips = append(skips, t)
		default:
			unfinished++
			stuck = append(stuck, t)
		}
	}
	w := s.out
	fmt.Fprintf(w, "\n==== summary: %d passed, %d failed, %d skipped", passed, failed, skipped)
	if unfinished > 0 {
		fmt.Fprintf(w, ", %d did not finish", unfinished)
	}
	fmt.Fprintf(w, " (tests and subtests); packages: %d ok, %d failed, %d without tests", s.pkgOK, len(s.pkgFailed), s.pkgNoTests)
	if len(fuzz) > 0 {
		fmt.Fprintf(w, "; %d fuzz runs", len(fuzz))
	}
	fmt.Fprintln(w)
	if s.events == 0 {
		fmt.Fprintln(w, "no test results in the input")
	}
	if len(skips) > 0 {
		fmt.Fprintln(w, "skipped:")
		for _, t := range skips {
			fmt.Fprintf(w, "  %s %s: %s\n", t.pkg, t.name, message(t.log.String()))
		}
	}
	if len(fails) > 0 {
		fmt.Fprintln(w, "failed:")
		for _, t := range fails {
			msg := message(t.log.String())
			if msg == noMessage {
				fmt.Fprintf(w, "  %s %s\n", t.pkg, t.name)
			} else {
				fmt.Fprintf(w, "  %s %s: %s\n", t.pkg, t.name, msg)
			}
		}
	}
	if len(stuck) > 0 {
		fmt.Fprintln(w, "did not finish (the test binary died or timed out):")
		for _, t := range stuck {
			fmt.Fprintf(w, "  %s %s\n", t.pkg, t.name)
		}
	}
	if len(s.buildFailed) > 0 {
		fmt.Fprintln(w, "build failed:")
		for _, p := range s.buildFailed {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(s.pkgFailed) > 0 {
		fmt.Fprintln(w, "packages failed:")
		for _, p := range s.pkgFailed {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if len(fuzz) > 0 {
		fmt.Fprintln(w, "fuzz:")
		for _, t := range fuzz {
			status := strings.ToUpper(t.status)
			if status == "" {
				status = "DID NOT FINISH"
			}
			d := time.Duration(t.elapsed * float64(time.Second)).Round(10 * time.Millisecond)
			fmt.Fprintf(w, "  %s %s: %s in %s (last: %s)", t.pkg, t.name, status, d, t.lastFuzz)
			if t.status == "fail" {
				fmt.Fprintf(w, ": %s", message(t.log.String()))
			}
			fmt.Fprintln(w)
		}
	}
	if len(s.figures) > 0 {
		fmt.Fprintln(w, "reliability figures:")
		for _, f := range s.figures {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	if s.ok() {
		fmt.Fprintln(w, "==== all passed")
	} else {
		fmt.Fprintln(w, "==== FAILED")
	}
}

const noMessage = "(no message)"

// logEntry is the first line of a t.Log, t.Error or t.Skip entry in -v output:
// indented, then file.go:line: (continuation lines are indented further).
var logEntry = regexp.MustCompile(`^\s+[\w.\-]+\.go:\d+: `)

// message is the last log entry of a test's output, on one line and without its
// location: for a skipped test, its skip message. A failing fuzz target's
// "Failing input written to" line is kept with it.
func message(out string) string {
	var entry []string
	for _, l := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "", strings.HasPrefix(l, "=== "), strings.HasPrefix(trimmed, "--- "):
		case logEntry.MatchString(l):
			entry = []string{logEntry.ReplaceAllString(l, "")}
		case strings.HasPrefix(trimmed, "Failing input written to "):
			entry = append(entry, trimmed)
		case entry != nil && strings.HasPrefix(l, "    "):
			entry = append(entry, trimmed)
		}
	}
	if len(entry) == 0 {
		return noMessage
	}
	return strings.Join(entry, " ")
}
