// Command testsummary reads `go test -json` streams on standard input, prints
// the output go test would have printed (each Output verbatim: the -json stream
// is -v's, so that is `go test -v`'s output, with its ok, FAIL, --- FAIL and PASS
// lines), and ends with a summary: tests passed, failed and skipped, each skipped
// test with its skip message, each failed test, build failures, and the fuzz runs.
// Lines that are not JSON events (go vet, the go command's own errors, echo) are
// passed through as they are. It exits 1 when anything failed or nothing ran.
//
//	go test -json ./... 2>&1 | go run ./internal/testsummary
//
// scripts/test runs the whole suite and the fuzz targets through it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// run copies in's output to out, then the summary, and returns the exit status.
func run(in io.Reader, out io.Writer) int {
	w := bufio.NewWriter(out)
	defer w.Flush()
	s := newSummary(w)
	r := bufio.NewReaderSize(in, 64*1024)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			s.line(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(w, "testsummary: read: %v\n", err)
			s.report()
			return 1
		}
	}
	s.report()
	if !s.ok() {
		return 1
	}
	return 0
}
