package core

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Config is the part of hostdeck's configuration that the use cases read.
type Config struct {
	// DefaultRuntime is the runtime of servers created without one ("sim").
	DefaultRuntime string
	// Template is what every alfa client's cloud runs.
	Template ClientTemplate
	// ExpireNoticeDays is how many days before expiry the automatic notice goes out.
	ExpireNoticeDays int
	// ReadyTimeout bounds how long client creation waits for the instance to be healthy.
	ReadyTimeout time.Duration
	// TokenTTL is how long an API token lives (DefaultTokenTTL when zero).
	TokenTTL time.Duration
	// LicenseExpiresAt, when set, is when the RS server's licence (--trs-license)
	// ends; after it the trs and broker faces refuse their work (CheckLicense).
	LicenseExpiresAt time.Time
	// OperatorToken is the account admin API's (the satellite's) operator
	// token, compared with the raw Authorization header (LoginOperator);
	// empty: only administrators' API tokens are accepted there.
	OperatorToken string
	// RescueImage is the runtime image of catalogue images that have no ref of
	// their own (RescueImages); the client template's image when empty.
	RescueImage string
	// PasswordMaxAge is how long a password stays valid (0: it never expires);
	// PasswordWarn is how long before expiry logins are warned; GraceLogins is
	// how many logins an expired password still allows (core/login/policy.go).
	PasswordMaxAge time.Duration
	PasswordWarn   time.Duration
	GraceLogins    int
	// PasswordChangeScript, when set, runs on a user's own password change with
	// the user name as argument and the new password on stdin; the change is
	// kept only when it exits 0 within PasswordChangeScriptTimeout (10 s when 0).
	PasswordChangeScript        string
	PasswordChangeScriptTimeout time.Duration
}

// ClientTemplate says which image a client's cloud runs, its env, ports, volumes,
// and the hook commands run inside it (argv, exec'd by the runtime).
type ClientTemplate struct {
	Image      string            `json:"image"`
	Cmd        []string          `json:"cmd,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Ports      []Port            `json:"ports,omitempty"`
	Volumes    []Volume          `json:"volumes,omitempty"` // Name is a suffix: the instance's volume is "<instance>-<name>"
	HealthPath string            `json:"health_path,omitempty"`
	OwnerLogin string            `json:"owner_login,omitempty"` // login of the lab owner account; "admin" when empty
	// OwnerPasswordStdin says the image reads its owner password at start on
	// its standard input, a line as Hooks.OwnerPassword reads it, and fails its
	// health check until it has set it. On a runtime that can write there
	// (StdinWriter) the instance's stdin is kept open and the password written
	// to it before the first start, in place of the hook's exec after it (the
	// slowest step of a client's creation); the hook still sets later changes,
	// and sets the first password elsewhere.
	OwnerPasswordStdin bool        `json:"owner_password_stdin,omitempty"`
	Hooks              ClientHooks `json:"hooks"`
}

// ClientHooks are commands run inside a client's instance. OwnerPassword gets the
// password on stdin, never on its command line.
type ClientHooks struct {
	DemoEnable    []string `json:"demo_enable,omitempty"`
	DemoDisable   []string `json:"demo_disable,omitempty"`
	OwnerPassword []string `json:"owner_password,omitempty"`
}

// Actor is who asks for a change and from where; faces put it in the context and
// core stamps it on audit events, tasks and history.
type Actor struct {
	UserID string
	Name   string
	Role   Role
	Face   string
	Source string // client address
	// Realm is the realm of the accounts the actor's credential manages
	// (RealmHostdeck when empty): see core/access.go.
	Realm string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; a zero Actor is the system itself.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	if a.Name == "" {
		a.Name = "system"
	}
	return a
}

// TaskFunc runs one attempt of a task. It reports progress (0..100) as it goes and
// returns a JSON-encodable result. An error marked Permanent (or of a kind a retry
// cannot fix) fails the task; any other error is retried with backoff. ctx is
// cancelled when the task is revoked or the worker shuts down.
type TaskFunc func(ctx context.Context, t *Task, progress func(pct int, msg string)) (result any, err error)

// PeriodicJob is work scheduled every Every, once per cluster: the runner enqueues a
// task of Kind keyed by the time slot, so replicas racing for a slot create it once.
type PeriodicJob struct {
	Kind  string
	Every time.Duration
}

// Service holds the use cases. Create it with New; its fields are its dependencies.
type Service struct {
	store    Store
	Runtimes map[string]Runtime
	Notifier Notifier
	Sealer   Sealer
	Hasher   Hasher
	Cfg      Config
	Now      func() time.Time
	Log      *slog.Logger
	Wake     func()
	// newPassword makes a random password (owner passwords, the first admin's).
	NewPassword func() string
	// handlers and periodic are the task kinds capability packages registered.
	handlers map[string]TaskFunc
	periodic []PeriodicJob
	// enqueued counts the tasks Enqueue wrote, so that Change wakes the runner
	// only after a change that gave it work: a claim is a write, and on SQLite
	// it waits for the one writer (a tenth of its time under hand-outs, which
	// record their task done and give the runner nothing).
	enqueued atomic.Uint64
}

// Sealer encrypts secrets that must be recovered later (the owner password e-mailed
// again by send_success).
type Sealer interface {
	Seal(plain []byte) []byte
	Open(sealed []byte) ([]byte, error)
}

// Hasher hashes and verifies passwords (argon2id in production). Each hash
// costs memory, so a Hasher bounds how many it computes at once: a call past
// that waits for its turn no longer than ctx lasts, and then fails with ctx's
// error.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, hash string) (bool, error)
}

// Deps are the Service's dependencies.
type Deps struct {
	Store    Store
	Runtimes map[string]Runtime // by name: "sim", "docker"
	Notifier Notifier
	Sealer   Sealer
	Hasher   Hasher
	// NewPassword makes a random password (core/secret.RandomPassword).
	NewPassword func() string
	Clock       func() time.Time // time.Now when nil
	Log         *slog.Logger
	// Wake, when set, is called after a task is committed so a local worker picks it
	// up at once instead of at its next poll.
	Wake func()
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Wake == nil {
		d.Wake = func() {}
	}
	if cfg.DefaultRuntime == "" {
		cfg.DefaultRuntime = "sim"
	}
	if cfg.ExpireNoticeDays == 0 {
		cfg.ExpireNoticeDays = 7
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.RescueImage == "" {
		cfg.RescueImage = cfg.Template.Image
	}
	if cfg.Template.OwnerLogin == "" {
		cfg.Template.OwnerLogin = "admin"
	}
	return &Service{
		store: d.Store, Runtimes: d.Runtimes, Notifier: d.Notifier, Sealer: d.Sealer,
		Hasher: d.Hasher, Cfg: cfg, Now: d.Clock, Log: d.Log, Wake: d.Wake,
		NewPassword: d.NewPassword,
	}
}

// SetWake sets the function called after tasks are committed (the runner is built
// after the Service, so cmd wires it late).
func (s *Service) SetWake(f func()) { s.Wake = f }
