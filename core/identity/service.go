// Package identity owns who is who: the directory an administrator manages
// (users of the administrator's realm, groups and their members, users' roles
// on projects), and logging in: one entry point per kind of credential
// (login.go), passwords and their policy (auth.go, policy.go: age, grace
// logins, TOTP second factors, the password-change script), the login
// throttle (throttle.go), and tokens of every kind (tokens.go).
package identity

import (
	"context"
	"sync"

	"hostdeck/core"
	"hostdeck/core/quota"
)

// Service holds the directory's use cases. It embeds core's Service for what
// every capability shares (the clock, the audit trail, the access policy,
// passwords) while core is split by capability.
type Service struct {
	*core.Service
	store Store
	quota *quota.Service // the request rate of tokens scoped to a project
	guard *loginGuard    // the login throttle (throttle.go)
	// dummy is the hash verified for unknown users (Service.dummyHash).
	dummyOnce sync.Once
	dummy     string
}

// New returns the Service over c and st, and registers its task kinds with c.
func New(c *core.Service, st Store, quotas *quota.Service) *Service {
	s := &Service{Service: c, store: st, quota: quotas, guard: newLoginGuard()}
	s.registerTasks()
	return s
}

// Store is what the directory keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of identity: the directory's and the
// logins'.
type Queries interface {
	DirectoryQueries
	LoginQueries
}

// LoginQueries are what logging in reads and writes besides the directory:
// users by name, second factors, grace logins, tokens.
type LoginQueries interface {
	GetUserByName(ctx context.Context, name string) (*core.User, error)
	FindProjectByName(ctx context.Context, name string) (*core.Project, error)
	UseGraceLogin(ctx context.Context, userID string, limit int) (int, error)
	CreateCredential(ctx context.Context, c *core.Credential) error
	GetCredential(ctx context.Context, id string) (*core.Credential, error)
	ListCredentials(ctx context.Context, f core.CredentialFilter) ([]*core.Credential, int, error)
	DeleteCredential(ctx context.Context, id string) error
	AdvanceCredentialStep(ctx context.Context, id string, step int64) error
	core.TokenStore
	core.AccessStore // what the policy reads of the user logging in
}

// DirectoryQueries are the store operations of the directory: users, groups
// and their members, role grants, and the domains and projects they name.
type DirectoryQueries interface {
	CreateUser(ctx context.Context, u *core.User) error // Conflict on a duplicate name
	GetUser(ctx context.Context, id string) (*core.User, error)
	ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error)
	UpdateUser(ctx context.Context, id string, u core.UserUpdate) (*core.User, error)
	DeleteUser(ctx context.Context, id string) error

	CreateGroup(ctx context.Context, g *core.Group) error
	GetGroup(ctx context.Context, id string) (*core.Group, error)
	ListGroups(ctx context.Context, f core.GroupFilter) ([]*core.Group, int, error)
	AddGroupMember(ctx context.Context, groupID, userID string) error
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	ListGroupMembers(ctx context.Context, groupID string) ([]*core.User, error)

	GrantRole(ctx context.Context, g *core.RoleGrant) error
	ProjectRoles(ctx context.Context, projectID, userID string) ([]core.Role, error)
	GetProject(ctx context.Context, id string) (*core.Project, error)
	core.DomainReader // GetDomain, GetDomainByName
	core.Recorder     // AddAudit, CreateTask
}
