// Package identity owns the directory an administrator manages: the users of
// the administrator's realm (and the first administrator, EnsureAdmin), groups
// and their members, users' roles on projects, in the domains they name. How
// those users log in, their passwords and tokens, is core/login's; the
// directory sets a password through login's rules.
package identity

import (
	"context"

	"hostdeck/core"
	"hostdeck/core/login"
)

// Service holds the directory's use cases. It embeds core's Service for what
// every capability shares (the clock, the audit trail, the access policy)
// while core is split by capability.
type Service struct {
	*core.Service
	store     Store
	passwords *login.Service // the password rules of a user created or edited
}

// New returns the Service over c and st; a user's password is set by the
// rules of passwords.
func New(c *core.Service, st Store, passwords *login.Service) *Service {
	return &Service{Service: c, store: st, passwords: passwords}
}

// Store is what the directory keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the directory: users, groups and their
// members, role grants, and the domains and projects they name.
type Queries interface {
	CreateUser(ctx context.Context, u *core.User) error // Conflict on a duplicate name
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetUserByName(ctx context.Context, name string) (*core.User, error) // the first administrator's
	ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error)
	UpdateUser(ctx context.Context, id string, u core.UserUpdate) (*core.User, error)
	// DeleteUser removes the user with its memberships, grants and tokens.
	DeleteUser(ctx context.Context, id string) error

	CreateGroup(ctx context.Context, g *core.Group) error // Conflict on a duplicate name in the domain
	GetGroup(ctx context.Context, id string) (*core.Group, error)
	ListGroups(ctx context.Context, f core.GroupFilter) ([]*core.Group, int, error)
	UpdateGroup(ctx context.Context, id string, u core.GroupUpdate) (*core.Group, error) // Conflict on a duplicate name in the domain
	// DeleteGroup removes the group with its memberships and grants.
	DeleteGroup(ctx context.Context, id string) error
	// ListUserGroups lists the groups the user is a member of, by name.
	ListUserGroups(ctx context.Context, userID string) ([]*core.Group, error)
	// AddGroupMember is idempotent; KindNotFound when the group or the user is unknown.
	AddGroupMember(ctx context.Context, groupID, userID string) error
	// RemoveGroupMember is KindNotFound when the user is not a member.
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	ListGroupMembers(ctx context.Context, groupID string) ([]*core.User, error)

	// GrantRole is idempotent.
	GrantRole(ctx context.Context, g *core.RoleGrant) error
	// ProjectRoles lists the user's roles on the project (none: an empty slice).
	ProjectRoles(ctx context.Context, projectID, userID string) ([]core.Role, error)
	GetProject(ctx context.Context, id string) (*core.Project, error)
	core.DomainReader // GetDomain, GetDomainByName
	core.NumberReader // users and groups by number
	core.Recorder     // AddAudit, CreateTask
}
