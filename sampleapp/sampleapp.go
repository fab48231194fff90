// Package sampleapp is the tiny web app that stands in for a customer's cloud in
// images hostdeck builds itself (no registry is reachable). The hostdeck binary runs
// it as "hostdeck sample-app <command>"; the same binary is the whole image.
//
// Commands:
//
//	serve             serve HTTP on $PORT (default 8080): GET /healthz, GET /;
//	                  when stdin is a pipe, set the owner password from each line
//	                  read there (see servePasswords)
//	demo-enable       write the demo data file
//	demo-disable      remove the demo data file
//	owner-password    read the owner password on stdin and store a salted hash of it
//	write-file PATH   copy stdin to PATH
//	read-file PATH    copy PATH to stdout
//
// State lives in files under $DATA_DIR (default /data, the instance's volume), so it
// survives restarts and moves with a volume copy.
package sampleapp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// Files under the data directory.
const (
	DemoFile     = "demo-data.json"
	PasswordFile = "owner-password"
)

// Main runs one command and returns the process exit code. args may start with
// "sample-app" (as in "hostdeck sample-app serve"); it is skipped.
func Main(args []string) int {
	return run(args, os.Stdin, os.Stdout, os.Stderr)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "sample-app" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sample-app serve|demo-enable|demo-disable|owner-password|write-file PATH|read-file PATH")
		return 2
	}
	dir := dataDir()
	var err error
	switch cmd := args[0]; {
	case cmd == "serve":
		err = serve(dir)
	case cmd == "demo-enable":
		err = writeAtomic(filepath.Join(dir, DemoFile), []byte(`{"demo":true,"items":["alpha","beta","gamma"]}`+"\n"))
	case cmd == "demo-disable":
		err = os.Remove(filepath.Join(dir, DemoFile))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	case cmd == "owner-password":
		err = setPassword(dir, stdin)
	case cmd == "write-file" && len(args) == 2:
		var b []byte
		if b, err = io.ReadAll(stdin); err == nil {
			err = writeAtomic(args[1], b)
		}
	case cmd == "read-file" && len(args) == 2:
		var b []byte
		if b, err = os.ReadFile(args[1]); err == nil {
			_, err = stdout.Write(b)
		}
	default:
		fmt.Fprintf(stderr, "sample-app: unknown command %q\n", args)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "sample-app %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func dataDir() string {
	if d := os.Getenv("DATA_DIR"); d != "" {
		return d
	}
	return "/data"
}

// setPassword stores PBKDF2-SHA256 of the password read from stdin with a random
// salt, as "pbkdf2-sha256$<iter>$<salt hex>$<key hex>". The plaintext is never written.
func setPassword(dir string, stdin io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return err
	}
	pw := string(bytes.TrimRight(b, "\r\n"))
	if pw == "" {
		return errors.New("empty password")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	const iter = 100_000
	key, err := pbkdf2.Key(sha256.New, pw, salt, iter, 32)
	if err != nil {
		return err
	}
	rec := fmt.Sprintf("pbkdf2-sha256$%d$%s$%s\n", iter, hex.EncodeToString(salt), hex.EncodeToString(key))
	return writeAtomic(filepath.Join(dir, PasswordFile), []byte(rec))
}

// writeAtomic writes through a temporary file and a rename so that a reader never
// sees half a file.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// servePasswords sets the owner password from each line read on stdin when
// stdin is a pipe (a container's kept open by a template with
// owner_password_stdin: hostdeck writes the password there before the start).
// Until one is set, or stdin ends (no password comes: the hook sets it), the
// returned flag is true and the health check fails, so that the cloud is not
// taken for ready without its password; a password set before (a restart)
// needs no wait. Stdin that is not a pipe (a terminal, /dev/null) is not read.
func servePasswords(dir string, stdin *os.File, stderr io.Writer) *atomic.Bool {
	waiting := new(atomic.Bool)
	if fi, err := stdin.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return waiting
	}
	waiting.Store(!exists(filepath.Join(dir, PasswordFile)))
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 4096), 4096)
		for sc.Scan() {
			if err := setPassword(dir, bytes.NewReader(sc.Bytes())); err != nil {
				fmt.Fprintf(stderr, "sample-app serve: owner password on stdin: %v\n", err)
				continue
			}
			waiting.Store(false)
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(stderr, "sample-app serve: read stdin: %v\n", err)
			return // still waiting: the cloud is not ready without its password
		}
		waiting.Store(false)
	}()
	return waiting
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Name}}</title></head>
<body><h1>{{.Name}}</h1>
<p>Demo data: {{if .Demo}}on{{else}}off{{end}}</p>
<p>Owner password: {{if .Password}}set{{else}}not set{{end}}</p>
</body></html>
`))

// Handler serves the app's pages, reading its state from dir on each request.
// The health check fails with 503 while waiting reports true (nil: never).
func Handler(dir, name string, waiting func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if waiting != nil && waiting() {
			http.Error(w, "waiting for the owner password on stdin", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, struct {
			Name           string
			Demo, Password bool
		}{name, exists(filepath.Join(dir, DemoFile)), exists(filepath.Join(dir, PasswordFile))})
	})
	return mux
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// serve runs the HTTP server until SIGTERM or SIGINT. Handling SIGTERM matters:
// as PID 1 in a container, an unhandled SIGTERM is ignored and "docker stop" would
// wait for its timeout.
func serve(dir string) error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	name := os.Getenv("CLIENT_NAME")
	if name == "" {
		name = "Sample lab"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	waiting := servePasswords(dir, os.Stdin, os.Stderr)
	srv := &http.Server{Handler: Handler(dir, name, waiting.Load), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
