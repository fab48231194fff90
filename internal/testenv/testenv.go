// Package testenv wires a complete hostdeck core for tests: a temporary SQLite
// store, the simulator, the durable task runner, a real in-process SMTP server and
// a core.Service, all cleaned up with the test.
package testenv

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/session"
	"hostdeck/core/fleet"
	"hostdeck/core/login"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/notify"
	"hostdeck/notify/smtptest"
	"hostdeck/runtime/sim"
	"hostdeck/sampleapp"
	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
	"hostdeck/task"
)

// Admin is the admin account every Env starts with.
const (
	AdminUser     = "admin"
	AdminPassword = "admin-password-1"
)

// Store is every store a test's core uses: all that hostdeck asks of a
// store (both stores implement it).
type Store = storetest.Store

// Env is a running hostdeck core.
type Env struct {
	Svc           *core.Service
	*services.Set // every capability's use cases: e.Cloud, e.Desktop, ...
	Store         Store
	Sim           *sim.Sim
	Mail          *smtptest.Server
	Runner        *task.Runner
	Admin         *core.User
	Log           *slog.Logger
}

// Options adjusts an Env.
type Options struct {
	Config   core.Config
	Desktop  desktop.Config // the pools' configuration
	Session  session.Config // the sessions' configuration (the floating IP pool)
	Sim      sim.Options
	Runtimes map[string]core.Runtime // added to "sim"
	// Periodic jobs, off by default so that tests decide when they run.
	Periodic []core.PeriodicJob
	Clock    func() time.Time
	// Store replaces the SQLite store in a temporary directory (e.g. Postgres(t)).
	Store Store
	// Hasher replaces argon2id at its cheapest test cost.
	Hasher core.Hasher
}

// New starts an Env with default options.
func New(t testing.TB) *Env { return NewWith(t, Options{}) }

// NewWith starts an Env.
func NewWith(t testing.TB, o Options) *Env {
	t.Helper()
	store := o.Store
	if store == nil {
		store = SQLite(t)
	}

	mail := smtptest.Start(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mailer, err := notify.New(notify.Config{Host: mail.Host, Port: mail.Port, From: "hostdeck@example.test", TLS: "none"}, log)
	if err != nil {
		t.Fatalf("mailer: %v", err)
	}
	key, _ := secret.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	simRT := sim.New(o.Sim)
	runtimes := map[string]core.Runtime{"sim": simRT}
	for name, rt := range o.Runtimes {
		runtimes[name] = rt
	}
	cfg := o.Config
	if cfg.Template.Image == "" {
		cfg.Template = sampleapp.Template()
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	hasher := o.Hasher
	if hasher == nil {
		hasher = secret.Hasher{Params: secret.TestParams}
	}
	svc := core.New(core.Deps{
		Store: store, Runtimes: runtimes, Notifier: mailer, Sealer: box,
		Hasher:      hasher,
		NewPassword: func() string { return secret.RandomPassword(16) },
		Clock:       o.Clock, Log: log,
	}, cfg)
	caps := services.New(svc, store, services.Options{ExpiryEvery: time.Hour, ReconcileEvery: time.Hour, Desktop: o.Desktop, Session: o.Session})
	runner := task.New(store, svc.TaskHandlers(), o.Periodic, task.Options{
		Workers: 8, Poll: 20 * time.Millisecond, Lease: 5 * time.Second,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond }, Log: log,
	})
	svc.SetWake(runner.Wake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	if _, err := caps.Identity.EnsureAdmin(context.Background(), AdminUser, AdminPassword); err != nil {
		t.Fatalf("ensure admin: %v", err)
	}
	admin, err := store.GetUserByName(context.Background(), AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Svc: svc, Set: caps, Store: store, Sim: simRT, Mail: mail, Runner: runner, Admin: admin, Log: log}
}

// SQLite opens a store in a temporary directory, closed when the test ends.
func SQLite(t testing.TB) Store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "hostdeck.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// AdminCtx is a context acting as the admin.
func (e *Env) AdminCtx() context.Context {
	return core.WithActor(context.Background(), core.Actor{UserID: e.Admin.ID, Name: e.Admin.Name, Role: core.RoleAdmin, Face: "test", Source: "127.0.0.1"})
}

// Origin is where the tests' logins come from.
var Origin = login.Origin{Face: "test", Source: "127.0.0.1"}

// Token logs name in with password, opening an API token, and returns the
// token's secret.
func (e *Env) Token(t testing.TB, name, password string) string {
	t.Helper()
	l, err := e.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: name, Password: password, Opens: core.TokenAPI}, Origin)
	if err != nil {
		t.Fatalf("log %s in: %v", name, err)
	}
	return l.Secret
}

// Server creates an active sim server.
func (e *Env) Server(t testing.TB, name string, capacity int) *core.Server {
	t.Helper()
	rt := "sim"
	srv, err := e.Fleet.CreateServer(e.AdminCtx(), fleet.ServerInput{Name: &name, Capacity: &capacity, Runtime: &rt})
	if err != nil {
		t.Fatalf("create server: %v", err)
	}
	return srv
}

// WaitTask waits until the task is finished and returns it.
func (e *Env) WaitTask(t testing.TB, id string) *core.Task {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tk, err := e.Store.GetTask(context.Background(), id)
		if err != nil {
			t.Fatalf("get task: %v", err)
		}
		if tk.Status.Done() {
			return tk
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s (%s) still %s after 30s: %s", id, tk.Kind, tk.Status, tk.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
