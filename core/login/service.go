// Package login owns logging in and credentials: one entry point per kind of
// credential (login.go), passwords and their policy (auth.go, policy.go: the
// password rules every package that sets a password calls, age, grace logins,
// TOTP second factors, the password-change script), the login throttle
// (throttle.go), tokens of every kind (tokens.go), and the cache of
// credentials verified a moment ago that makes a request's authentication a
// map lookup (cache.go). The directory the users logging in belong to is
// core/identity's.
package login

import (
	"context"
	"sync"
	"time"

	"hostdeck/core"
	"hostdeck/core/quota"
)

// Service holds the use cases of logging in. It embeds core's Service for
// what every capability shares (the clock, the audit trail, the access policy,
// the hasher and the secret box).
type Service struct {
	*core.Service
	store Store
	quota *quota.Service   // the request rate of tokens scoped to a project
	guard *loginGuard      // the login throttle (throttle.go)
	cache *credentialCache // credentials verified a moment ago (cache.go)
	// dummy is the hash verified for unknown users (Service.dummyHash).
	dummyMu sync.Mutex
	dummy   string
}

// New returns the Service over c and st, and registers its task kinds with c;
// quotas rate the requests of tokens scoped to a project.
func New(c *core.Service, st Store, quotas *quota.Service) *Service {
	s := &Service{Service: c, store: st, quota: quotas, guard: newLoginGuard(), cache: newCredentialCache()}
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
	// UseGraceLogin counts one login with an expired password unless limit
	// are used already, and returns the count after it; KindConflict when
	// none is left, KindNotFound for an unknown user.
	UseGraceLogin(ctx context.Context, userID string, limit int) (int, error)
	// ListUsers finds the users a forgotten password's e-mail address names.
	ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error)

	// The domain a strict login names, the project a token is scoped to, and
	// the user's roles on it.
	core.DomainReader // GetDomain, GetDomainByName
	GetProject(ctx context.Context, id string) (*core.Project, error)
	// FindProjectByName returns the oldest project of that name.
	FindProjectByName(ctx context.Context, name string) (*core.Project, error)
	// ProjectRoles lists the user's roles on the project (none: an empty slice).
	ProjectRoles(ctx context.Context, projectID, userID string) ([]core.Role, error)

	// TOTP second factors.
	// CreateCredential stores a credential (its Blob already sealed).
	CreateCredential(ctx context.Context, c *core.Credential) error
	GetCredential(ctx context.Context, id string) (*core.Credential, error)
	// ListCredentials lists credentials oldest first.
	ListCredentials(ctx context.Context, f core.CredentialFilter) ([]*core.Credential, int, error)
	DeleteCredential(ctx context.Context, id string) error
	// AdvanceCredentialStep records step as the credential's last accepted
	// TOTP time step; KindConflict when step is not after the one stored (a
	// replay).
	AdvanceCredentialStep(ctx context.Context, id string, step int64) error

	// The tokens logins open. Unknown ids and hashes are KindNotFound.
	// CreateToken stores t; a duplicate hash is KindConflict, an unknown user
	// KindNotFound.
	CreateToken(ctx context.Context, t *core.Token) error
	GetTokenByHash(ctx context.Context, hash string) (*core.Token, error)
	// TouchToken records a use of the token at at.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// RevokeToken marks the token revoked at at; revoking twice keeps the
	// first time.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// DeleteExpiredTokens removes tokens that expired, absolutely or idle,
	// before before.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error)
	// ConsumeToken revokes a single-use token at at; KindConflict when it is
	// revoked already (used), so that two uses racing succeed once.
	ConsumeToken(ctx context.Context, id string, at time.Time) error

	// API keys. GetToken and ListTokens fill the token's UserName; ListTokens
	// lists oldest first unless the page sorts otherwise.
	GetToken(ctx context.Context, id string) (*core.Token, error)
	ListTokens(ctx context.Context, f core.TokenFilter) ([]*core.Token, int, error)
	UpdateToken(ctx context.Context, id string, u core.TokenUpdate) (*core.Token, error)
	DeleteToken(ctx context.Context, id string) error
	core.NumberReader // a key by its number

	core.Recorder // AddAudit, CreateTask
}
