package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"hostdeck/api/alfa"
	"hostdeck/api/billmgr"
	"hostdeck/api/broker"
	"hostdeck/api/httpx"
	"hostdeck/api/ops"
	"hostdeck/api/satellite"
	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/desktop/session"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/notify"
	"hostdeck/runtime/docker"
	"hostdeck/runtime/sim"
	"hostdeck/sampleapp"
	"hostdeck/store/postgres"
	"hostdeck/store/sqlite"
	"hostdeck/store/sqlstore"
	"hostdeck/task"
)

// serveConfig is everything `hostdeck serve` reads: flags, each with a HOSTDECK_*
// environment equivalent (the flag wins).
type serveConfig struct {
	Data   string
	DB     string
	Listen string
	// FaceListen is the address of each face's own listener, by face name (see
	// faces); "" for none.
	FaceListen  map[string]string
	TRSLicense  string
	TokenTTL    time.Duration
	FloatingIPs string
	Runtime     string
	LocalServer bool
	Template    string
	SecretKey   string
	NoticeDays  int
	SMTPAddr    string
	SMTPFrom    string
	SMTPTLS     string
	SimDelay    time.Duration
	Workers     int
	TaskLease   time.Duration
	ExpiryEvery time.Duration
	ReconEvery  time.Duration
	HashMemKiB  uint
	HashAtOnce  int // argon2id hashes computed at once, so their memory is at most HashAtOnce × HashMemKiB
	LogLevel    string
	// Password policy (core/login/policy.go).
	PasswordMaxAge time.Duration
	PasswordWarn   time.Duration
	GraceLogins    int
	PasswordScript string

	// RescueImage: the billmgr face's rescue mode (api/billmgr).
	RescueImage string

	// Limits of every listener (see README, Configuration) and the bound on
	// shutdown.
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	MaxConns        int
	ShutdownTimeout time.Duration
}

// readHeaderTimeout bounds reading a request's headers (capped by --read-timeout).
const readHeaderTimeout = 10 * time.Second

func newServeCmd() *cobra.Command {
	var c serveConfig
	faceListen := make(map[string]*string, len(faces))
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			c.FaceListen = make(map[string]string, len(faceListen))
			for name, addr := range faceListen {
				c.FaceListen[name] = *addr
			}
			return serve(ctx, c, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Data, "data", env("HOSTDECK_DATA", "./hostdeck-data"), "data directory (SQLite file, keys, simulator state) [HOSTDECK_DATA]")
	f.StringVar(&c.DB, "db", env("HOSTDECK_DB", ""), "database: empty for SQLite under --data, or a postgres:// DSN [HOSTDECK_DB]")
	f.StringVar(&c.Listen, "listen", env("HOSTDECK_LISTEN", "127.0.0.1:8080"), "address of the main listener (faces under "+mountList()+"; /healthz, /metrics) [HOSTDECK_LISTEN]")
	for _, fc := range faces {
		faceListen[fc.name] = f.String(fc.listenFlag(), env(fc.listenEnv(), ""), "own listener for the "+fc.name+" face at / ["+fc.listenEnv()+"]")
	}
	f.StringVar(&c.RescueImage, "rescue-image", env("HOSTDECK_RESCUE_IMAGE", ""), "runtime image that catalogue images without a ref of their own (the billmgr document's) boot in rescue; the client template's image when empty [HOSTDECK_RESCUE_IMAGE]")
	f.StringVar(&c.TRSLicense, "trs-license", env("HOSTDECK_TRS_LICENSE", ""), "JSON file with the licence block GET /v1/info shows [HOSTDECK_TRS_LICENSE]")
	f.StringVar(&c.FloatingIPs, "floating-ip-pool", env("HOSTDECK_FLOATING_IP_POOL", session.DefaultFloatingIPPool), "CIDR users' floating IPs are allocated from [HOSTDECK_FLOATING_IP_POOL]")
	f.DurationVar(&c.TokenTTL, "token-ttl", envDuration("HOSTDECK_TOKEN_TTL", time.Hour), "how long an X-Auth-Token lives [HOSTDECK_TOKEN_TTL]")
	f.DurationVar(&c.PasswordMaxAge, "password-max-age", envDuration("HOSTDECK_PASSWORD_MAX_AGE", 0), "how long a password stays valid; 0 = never expires [HOSTDECK_PASSWORD_MAX_AGE]")
	f.DurationVar(&c.PasswordWarn, "password-warn", envDuration("HOSTDECK_PASSWORD_WARN", 0), "warn logins this long before the password expires [HOSTDECK_PASSWORD_WARN]")
	f.IntVar(&c.GraceLogins, "grace-logins", envInt("HOSTDECK_GRACE_LOGINS", 0), "logins an expired password still allows [HOSTDECK_GRACE_LOGINS]")
	f.StringVar(&c.PasswordScript, "password-change-script", env("HOSTDECK_PASSWORD_CHANGE_SCRIPT", ""), "script run on a broker password change: user name as argument, new password on stdin; the change is kept only if it exits 0 [HOSTDECK_PASSWORD_CHANGE_SCRIPT]")
	f.StringVar(&c.Runtime, "runtime", env("HOSTDECK_RUNTIME", "sim"), "runtime of servers created without one: sim or docker [HOSTDECK_RUNTIME]")
	f.BoolVar(&c.LocalServer, "local-server", envBool("HOSTDECK_LOCAL_SERVER", true), "on first start, register this machine as server \"local\" on --runtime, so that a fresh install can place clients and machines [HOSTDECK_LOCAL_SERVER]")
	f.StringVar(&c.Template, "template", env("HOSTDECK_TEMPLATE", ""), "client template (JSON file); the built-in sample client when empty [HOSTDECK_TEMPLATE]")
	f.StringVar(&c.SecretKey, "secret-key", env("HOSTDECK_SECRET_KEY", ""), "32-byte key (hex or base64) sealing recoverable secrets; a key file under --data when empty [HOSTDECK_SECRET_KEY]")
	f.IntVar(&c.NoticeDays, "expire-notice-days", envInt("HOSTDECK_EXPIRE_NOTICE_DAYS", 7), "days before expiry the automatic notice goes out [HOSTDECK_EXPIRE_NOTICE_DAYS]")
	f.StringVar(&c.SMTPAddr, "smtp-addr", env("HOSTDECK_SMTP_ADDR", "127.0.0.1:25"), "SMTP relay host:port (user and password from HOSTDECK_SMTP_USER, HOSTDECK_SMTP_PASSWORD) [HOSTDECK_SMTP_ADDR]")
	f.StringVar(&c.SMTPFrom, "smtp-from", env("HOSTDECK_SMTP_FROM", "hostdeck@localhost"), "sender address of e-mails [HOSTDECK_SMTP_FROM]")
	f.StringVar(&c.SMTPTLS, "smtp-tls", env("HOSTDECK_SMTP_TLS", "none"), "SMTP TLS: none, starttls or tls [HOSTDECK_SMTP_TLS]")
	f.DurationVar(&c.SimDelay, "sim-delay", envDuration("HOSTDECK_SIM_DELAY", 500*time.Millisecond), "simulated build/start/reboot delay [HOSTDECK_SIM_DELAY]")
	f.IntVar(&c.Workers, "workers", envInt("HOSTDECK_WORKERS", 16), "tasks run at once by this process [HOSTDECK_WORKERS]")
	f.DurationVar(&c.TaskLease, "task-lease", envDuration("HOSTDECK_TASK_LEASE", 30*time.Second), "how long a worker holds a task between renewals; a dead worker's tasks run again after it [HOSTDECK_TASK_LEASE]")
	f.DurationVar(&c.ExpiryEvery, "expiry-every", envDuration("HOSTDECK_EXPIRY_EVERY", time.Hour), "how often expiry notices are looked for [HOSTDECK_EXPIRY_EVERY]")
	f.DurationVar(&c.ReconEvery, "reconcile-every", envDuration("HOSTDECK_RECONCILE_EVERY", time.Minute), "how often records are reconciled with the runtimes [HOSTDECK_RECONCILE_EVERY]")
	f.UintVar(&c.HashMemKiB, "argon2-memory", uint(envInt("HOSTDECK_ARGON2_MEMORY_KIB", 64*1024)), "argon2id memory cost in KiB [HOSTDECK_ARGON2_MEMORY_KIB]")
	f.IntVar(&c.HashAtOnce, "argon2-concurrency", envInt("HOSTDECK_ARGON2_CONCURRENCY", 2), "argon2id hashes computed at once; the others wait their turn (their request's deadline at most), so that a burst of logins holds at most this times --argon2-memory [HOSTDECK_ARGON2_CONCURRENCY]")
	f.StringVar(&c.LogLevel, "log-level", env("HOSTDECK_LOG_LEVEL", "info"), "debug, info, warn or error [HOSTDECK_LOG_LEVEL]")
	f.DurationVar(&c.ReadTimeout, "read-timeout", envDuration("HOSTDECK_READ_TIMEOUT", 30*time.Second), "longest time to read one request, body included; 30s lets a 1 MiB body (the largest a face reads) come at 35 KB/s, and cuts a client that sends headers and then stalls [HOSTDECK_READ_TIMEOUT]")
	f.DurationVar(&c.WriteTimeout, "write-timeout", envDuration("HOSTDECK_WRITE_TIMEOUT", 60*time.Second), "longest time from the end of a request's headers to the end of its answer; no request streams, and the slowest synchronous work (a server probe, 5s; the password-change script, 10s) fits many times [HOSTDECK_WRITE_TIMEOUT]")
	f.DurationVar(&c.IdleTimeout, "idle-timeout", envDuration("HOSTDECK_IDLE_TIMEOUT", 75*time.Second), "how long a keep-alive connection may wait for its next request; 75s outlasts the 60s idle timeout common in load balancers, so that they, not hostdeck, close pooled connections [HOSTDECK_IDLE_TIMEOUT]")
	f.IntVar(&c.MaxConns, "max-conns", envInt("HOSTDECK_MAX_CONNS", 1024), "open connections per listener; over it a new connection is reset at once (0 = no cap) [HOSTDECK_MAX_CONNS]")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("HOSTDECK_SHUTDOWN_TIMEOUT", 8*time.Second), "on SIGINT/SIGTERM, how long requests in flight may finish and running tasks may return (they get half of it) before connections are closed and the process exits; 8s fits docker stop's 10s [HOSTDECK_SHUTDOWN_TIMEOUT]")
	return cmd
}

func serve(ctx context.Context, c serveConfig, out interface{ Write([]byte) (int, error) }) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"read-timeout", c.ReadTimeout}, {"write-timeout", c.WriteTimeout}, {"idle-timeout", c.IdleTimeout}, {"shutdown-timeout", c.ShutdownTimeout}} {
		if d.v <= 0 {
			return fmt.Errorf("--%s: want a positive duration, got %s", d.flag, d.v)
		}
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("--max-conns: want 0 (no cap) or more, got %d", c.MaxConns)
	}
	if c.HashAtOnce < 1 {
		return fmt.Errorf("--argon2-concurrency: want 1 or more, got %d", c.HashAtOnce)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()

	tmpl, err := loadTemplate(c.Template)
	if err != nil {
		return err
	}
	box, err := openBox(c)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(c.SMTPAddr)
	if err != nil {
		return fmt.Errorf("--smtp-addr: %w", err)
	}
	var smtpPort int
	fmt.Sscan(port, &smtpPort)
	mailer, err := notify.New(notify.Config{
		Host: host, Port: smtpPort, From: c.SMTPFrom, TLS: c.SMTPTLS,
		Username: os.Getenv("HOSTDECK_SMTP_USER"), Password: os.Getenv("HOSTDECK_SMTP_PASSWORD"),
	}, log)
	if err != nil {
		return err
	}
	simState, err := simStateFile(c.Data)
	if err != nil {
		return err
	}
	simRT, err := sim.Open(sim.Options{
		BuildDelay: c.SimDelay, StartDelay: c.SimDelay, RebootDelay: c.SimDelay,
		StateFile: simState,
	})
	if err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	defer simRT.Close()
	dockerRT := docker.New(docker.Options{})
	defer dockerRT.Close()
	runtimes := map[string]core.Runtime{"sim": simRT, "docker": dockerRT}
	if _, ok := runtimes[c.Runtime]; !ok {
		return fmt.Errorf("--runtime: unknown runtime %q (sim or docker)", c.Runtime)
	}
	if c.Runtime == "docker" && tmpl.Image == docker.SampleImage {
		if err := ensureSampleImage(ctx); err != nil {
			log.Warn("sample client image not available; run `hostdeck image build-sample`", "err", err)
		}
	}

	if _, err := netip.ParsePrefix(c.FloatingIPs); err != nil {
		return fmt.Errorf("--floating-ip-pool %q is not a CIDR: %w", c.FloatingIPs, err)
	}
	license, err := loadLicense(c.TRSLicense)
	if err != nil {
		return err
	}
	svc := core.New(core.Deps{
		Store: store, Runtimes: runtimes, Notifier: mailer, Sealer: box,
		Hasher:      secret.NewHasher(secret.Params{Memory: uint32(c.HashMemKiB), Time: 1, Threads: 2}, c.HashAtOnce),
		NewPassword: func() string { return secret.RandomPassword(16) },
		Log:         log,
	}, core.Config{DefaultRuntime: c.Runtime, Template: tmpl, ExpireNoticeDays: c.NoticeDays, TokenTTL: c.TokenTTL,
		OperatorToken:  os.Getenv("HOSTDECK_SATELLITE_TOKEN"), // from the environment only, never a flag
		PasswordMaxAge: c.PasswordMaxAge, PasswordWarn: c.PasswordWarn, GraceLogins: c.GraceLogins,
		PasswordChangeScript: c.PasswordScript, RescueImage: c.RescueImage, LicenseExpiresAt: license.ExpiresAt()})

	caps := services.New(svc, store, services.Options{ExpiryEvery: c.ExpiryEvery, ReconcileEvery: c.ReconEvery,
		Session: session.Config{FloatingIPPool: c.FloatingIPs}})

	if _, err := caps.Hosting.SeedRescueImages(ctx); err != nil {
		return fmt.Errorf("seed rescue images: %w", err)
	}
	generated, err := caps.Identity.EnsureAdmin(ctx, env("HOSTDECK_ADMIN_USER", "admin"), os.Getenv("HOSTDECK_ADMIN_PASSWORD"))
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(out, "created admin %q with password %s (shown once; change it with POST /alfa/cloud_admin_password)\n",
			env("HOSTDECK_ADMIN_USER", "admin"), generated)
	}

	if c.LocalServer {
		srv, err := caps.Fleet.EnsureLocalServer(ctx)
		if err != nil {
			return fmt.Errorf("register the local server: %w", err)
		}
		if srv != nil {
			log.Info("registered this machine as a server", "server", srv.Name, "runtime", srv.Runtime, "capacity", srv.Capacity)
		}
	}

	// Running tasks get half the shutdown bound to return; the rest is for
	// handing them back to the store.
	runner := task.New(store, svc.TaskHandlers(), svc.PeriodicJobs(),
		task.Options{Workers: c.Workers, Lease: c.TaskLease, Grace: c.ShutdownTimeout / 2, Log: log})
	svc.SetWake(runner.Wake)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), taskCollector{store})
	metrics, err := httpx.NewMetrics(reg)
	if err != nil {
		return err
	}
	deps := faceDeps{Set: caps, core: svc, log: log, metrics: metrics, license: license}
	var ready atomic.Bool
	eps := []endpoint{{"main", c.Listen, mainHandler(deps, reg, &ready)}}
	for _, fc := range faces {
		if addr := c.FaceListen[fc.name]; addr != "" {
			eps = append(eps, endpoint{fc.name, addr, fc.build(deps, "")})
		}
	}
	servers := make([]*listener, len(eps))
	for i, e := range eps {
		if servers[i], err = listen(e, c, log); err != nil {
			for _, s := range servers[:i] {
				s.ln.Close()
			}
			return err
		}
	}
	conns := make(connCollector, len(servers))
	for i, s := range servers {
		conns[i] = s.ln
	}
	reg.MustRegister(conns)

	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Run(runCtx) }()
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	ready.Store(true)
	attrs := []any{"listen", servers[0].ln.Addr().String()}
	for _, fc := range faces {
		attrs = append(attrs, fc.name+"_listen", c.FaceListen[fc.name])
	}
	log.Info("hostdeck serving", append(attrs, "runtime", c.Runtime, "store", storeKind(c))...)

	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("listener failed", "err", err)
	}
	log.Info("shutting down", "bound", c.ShutdownTimeout)
	ready.Store(false)
	stopServing(log, c.ShutdownTimeout, servers, stopRunner, runnerDone)
	log.Info("stopped")
	return err
}

// face is one admin API hostdeck serves: its name (the face's own, as its logs
// and metrics carry it; also that of the --NAME-listen flag and the
// HOSTDECK_NAME_LISTEN variable of its own listener), the path the main listener
// serves it under, and how it is built: prefix is the path it is served under
// ("" on its own listener, at /), for its links.
type face struct {
	name  string
	mount string
	build func(d faceDeps, prefix string) http.Handler
}

// faceDeps is what the faces are built from.
type faceDeps struct {
	*services.Set
	core    *core.Service // grants and the audit log
	log     *slog.Logger
	metrics *httpx.Metrics
	license *trs.License // GET /v1/info's licence block (--trs-license)
}

// faces is every face hostdeck serves, in the order the help and the log line
// name them: adding a face is adding its line here.
var faces = []face{
	{alfa.Face, "/alfa", func(d faceDeps, prefix string) http.Handler {
		return alfa.NewHandler(d.Cloud, d.Fleet, d.Login, alfa.Options{Log: d.log, Metrics: d.metrics, Prefix: prefix})
	}},
	{trs.Face, "/trs", func(d faceDeps, prefix string) http.Handler {
		return trs.NewHandler(d.Desktop, d.Session, d.Machine, d.Provision, d.HandOut, d.Catalogue, d.Identity, d.Login, trs.Options{Log: d.log, Metrics: d.metrics, Prefix: prefix, License: d.license})
	}},
	{broker.Face, "/broker", func(d faceDeps, prefix string) http.Handler {
		return broker.NewHandler(d.HandOut, d.Machine, d.Login, broker.Options{Log: d.log, Metrics: d.metrics, Prefix: prefix})
	}},
	{satellite.Face, "/satellite", func(d faceDeps, prefix string) http.Handler {
		return satellite.NewHandler(d.Tenancy, d.Billing, d.Quota, d.Login, satellite.Options{Log: d.log, Metrics: d.metrics, Prefix: prefix})
	}},
	{ops.Face, "/ops", func(d faceDeps, prefix string) http.Handler {
		return ops.NewHandler(ops.Services{Core: d.core, Identity: d.Identity, Login: d.Login, Apps: d.Apps, Fleet: d.Fleet, Links: d.Links},
			ops.Options{Log: d.log, Metrics: d.metrics, Prefix: prefix})
	}},
	{billmgr.Face, "/billmgr", func(d faceDeps, prefix string) http.Handler {
		return billmgr.NewHandler(d.Hosting, d.Catalogue, d.Login, billmgr.Options{Log: d.log, Metrics: d.metrics, Prefix: prefix})
	}},
}

func (f face) listenFlag() string { return f.name + "-listen" }
func (f face) listenEnv() string  { return "HOSTDECK_" + strings.ToUpper(f.name) + "_LISTEN" }

// mountList names the faces' mounts for the help of --listen: "/alfa/, /trs/
// and /billmgr/".
func mountList() string {
	m := make([]string, len(faces))
	for i, f := range faces {
		m[i] = f.mount + "/"
	}
	return strings.Join(m[:len(m)-1], ", ") + " and " + m[len(m)-1]
}

// mainHandler is the main listener: every face under its mount (the bare mount
// too, as billmgr's clients post to /billmgr), /metrics and /healthz (200 once
// ready). The path is cleaned before routing, as each face cleans its own:
// "//alfa/clients" and "/alfa//clients/" reach alfa's /clients, where a bare
// ServeMux would answer with an unauthenticated redirect and an HTML body.
func mainHandler(d faceDeps, reg *prometheus.Registry, ready *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	for _, f := range faces {
		h := http.StripPrefix(f.mount, f.build(d, f.mount))
		mux.Handle(f.mount, h)
		mux.Handle(f.mount+"/", h)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return httpx.CleanPath(mux)
}

// endpoint is one listener to open: its role, address and handler.
type endpoint struct {
	name    string
	addr    string
	handler http.Handler
}

// listener is an open endpoint: its server and its capped listener.
type listener struct {
	srv *http.Server
	ln  *capListener
}

// listen opens e with the limits every listener has: --read-timeout (whole
// request), --write-timeout, --idle-timeout and --max-conns.
func listen(e endpoint, c serveConfig, log *slog.Logger) (*listener, error) {
	l, err := net.Listen("tcp", e.addr)
	if err != nil {
		return nil, fmt.Errorf("listen (%s): %w", e.name, err)
	}
	return &listener{
		srv: &http.Server{
			Addr:              e.addr,
			Handler:           e.handler,
			ReadHeaderTimeout: min(readHeaderTimeout, c.ReadTimeout),
			ReadTimeout:       c.ReadTimeout,
			WriteTimeout:      c.WriteTimeout,
			IdleTimeout:       c.IdleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln: newCapListener(l, e.name, c.MaxConns, log),
	}, nil
}

// stopServing ends the listeners and the task runner together within bound.
// Requests in flight may finish until then and idle connections are closed at
// once; connections still open at the bound (a stalled body, a slow handler)
// are closed. The runner cancels its handlers and hands their tasks back (see
// task.Options.Grace); if it has not returned by the bound it is left behind,
// and the tasks it still held run again once their lease runs out. So the
// process exits at most bound after the signal, plus closing the database.
func stopServing(log *slog.Logger, bound time.Duration, servers []*listener, stopRunner context.CancelFunc, runnerDone <-chan error) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	stopRunner()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			if err := s.srv.Shutdown(ctx); err != nil {
				log.Warn("connections still open at the shutdown bound; closing them", "listener", s.ln.name,
					"open", s.ln.open.Load(), "bound", bound)
				s.srv.Close()
			}
		})
	}
	wg.Wait()
	select {
	case <-runnerDone:
	case <-ctx.Done():
		log.Error("task runner not stopped within the shutdown bound; its tasks run again once their lease runs out",
			"bound", bound)
	}
}

func storeKind(c serveConfig) string {
	if strings.HasPrefix(c.DB, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

func openStore(ctx context.Context, c serveConfig) (*sqlstore.DB, error) {
	switch {
	case c.DB == "":
		return sqlite.Open(filepath.Join(c.Data, "hostdeck.db"))
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return postgres.Open(ctx, c.DB)
	default:
		return nil, fmt.Errorf("--db: want empty (SQLite) or a postgres:// DSN")
	}
}

func openBox(c serveConfig) (*secret.Box, error) {
	var key []byte
	var err error
	if c.SecretKey != "" {
		key, err = secret.ParseKey(c.SecretKey)
	} else {
		key, err = secret.LoadOrCreateKey(filepath.Join(c.Data, "secret.key"))
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return secret.NewBox(key)
}

func loadTemplate(path string) (core.ClientTemplate, error) {
	if path == "" {
		return sampleapp.Template(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return core.ClientTemplate{}, fmt.Errorf("client template: %w", err)
	}
	var t core.ClientTemplate
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return core.ClientTemplate{}, fmt.Errorf("client template %s: %w", path, err)
	}
	if t.Image == "" {
		return core.ClientTemplate{}, fmt.Errorf("client template %s: image is required", path)
	}
	return t, nil
}

// loadLicense reads the licence block of GET /v1/info; none when path is empty.
func loadLicense(path string) (*trs.License, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--trs-license: %w", err)
	}
	var l trs.License
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("--trs-license %s: %w", path, err)
	}
	return &l, nil
}

// taskCollector exports task counts by state as a Prometheus gauge.
type taskCollector struct {
	store interface {
		CountTasksByStatus(ctx context.Context) (map[core.TaskStatus]int, error)
	}
}

var taskDesc = prometheus.NewDesc("hostdeck_tasks", "Tasks by status.", []string{"status"}, nil)

func (t taskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- taskDesc }

func (t taskCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := t.store.CountTasksByStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(taskDesc, err)
		return
	}
	for _, s := range []core.TaskStatus{core.TaskPending, core.TaskStarted, core.TaskSuccess, core.TaskFailure, core.TaskRetry, core.TaskRevoked} {
		ch <- prometheus.MustNewConstMetric(taskDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	var n int
	if _, err := fmt.Sscan(env(key, ""), &n); err == nil {
		return n
	}
	return def
}

func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(env(key, "")); err == nil {
		return b
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(key, "")); err == nil {
		return d
	}
	return def
}

// simStateFile is where the simulator keeps its instances in data: sim.db. A
// data directory of an earlier version has them in sim-state.json (JSON, which
// the simulator converts on open): it is renamed first.
func simStateFile(data string) (string, error) {
	path, old := filepath.Join(data, "sim.db"), filepath.Join(data, "sim-state.json")
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return path, err
	}
	if err := os.Rename(old, path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("simulator state: %w", err)
	}
	return path, nil
}
