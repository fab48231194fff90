// Package login owns logging in and credentials: one entry point per kind of
// credential (login.go), passwords and their policy (auth.go, policy.go: the
// password rules every package that sets a password calls, age, grace logins,
// TOTP second factors, the password-change script), the login throttle
// (throttle.go), and tokens of every kind (tokens.go). The directory the
// users logging in belong to is core/identity's.
package login

import (
	"context"
	"sync"

	"hostdeck/core"
)

// Service holds the use cases of logging in. It embeds core's Service for
// what every capability shares (the clock, the audit trail, the access policy,
// the hasher and the secret box).
type Service struct {
	*core.Service
	store Store
	guard *loginGuard // the login throttle (throttle.go)
	// dummy is the hash verified for unknown users (Service.dummyHash).
	dummyOnce sync.Once
	dummy     string
}

// New returns the Service over c and st, and registers its task kinds with c.
func New(c *core.Service, st Store) *Service {
	s := &Service{Service: c, store: st, guard: newLoginGuard()}
	s.registerTasks()
	return s
}

// Store is what logging in keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of logging in.
type Queries interface {
	// The user logging in, the grace logins of an expired password, and the
	// password a user changes.
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetUserByName(ctx context.Context, name string) (*core.User, error)
	UpdateUser(ctx context.Context, id string, u core.UserUpdate) (*core.User, error)
	UseGraceLogin(ctx context.Context, userID string, limit int) (int, error)

	// The domain a strict login names, the project a token is scoped to, and
	// the user's roles on it.
	core.DomainReader // GetDomain, GetDomainByName
	GetProject(ctx context.Context, id string) (*core.Project, error)
	FindProjectByName(ctx context.Context, name string) (*core.Project, error)
	ProjectRoles(ctx context.Context, projectID, userID string) ([]core.Role, error)

	// TOTP second factors.
	CreateCredential(ctx context.Context, c *core.Credential) error
	GetCredential(ctx context.Context, id string) (*core.Credential, error)
	ListCredentials(ctx context.Context, f core.CredentialFilter) ([]*core.Credential, int, error)
	DeleteCredential(ctx context.Context, id string) error
	AdvanceCredentialStep(ctx context.Context, id string, step int64) error

	core.TokenStore // the tokens logins open
	core.Recorder   // AddAudit, CreateTask
}
