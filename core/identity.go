package core

import (
	"context"
	"time"
)

// DefaultDomainID is the domain every user belongs to unless told otherwise; the
// first migration creates it under the name "Default", as Keystone does.
const DefaultDomainID = "default"

// Reasons of identity errors, stable for faces to map to their own codes.
const (
	ReasonInvalidCredentials = "invalid_credentials"
	ReasonDomainNotFound     = "domain_not_found"
	ReasonUserNotFound       = "user_not_found"
	ReasonGroupNotFound      = "group_not_found"
	ReasonProjectNotFound    = "project_not_found"
	ReasonProjectForbidden   = "project_forbidden"
)

// Group is a named set of users of one domain.
type Group struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DomainID    string    `json:"domain_id"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// RoleGrant gives a user a role on a project.
type RoleGrant struct {
	ProjectID string    `json:"project_id"`
	UserID    string    `json:"user_id"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// UserFilter selects users; nil fields do not filter.
type UserFilter struct {
	DomainID  *string
	Name      *string // exact name
	ProjectID *string // users with a role on the project
	Realm     *string
	Page
}

// UserUpdate changes the fields that are set.
type UserUpdate struct {
	Name         *string
	Email        *string
	PasswordHash *string
	Disabled     *bool
	// PasswordChangedAt and GraceLoginsUsed are set with every new password.
	PasswordChangedAt *time.Time
	GraceLoginsUsed   *int
}

// GroupFilter selects groups.
type GroupFilter struct {
	DomainID *string
	Name     *string // exact name
	Page
}

// IdentityStore holds domains, users' administration, groups, role grants and
// credentials. Unknown ids are KindNotFound, duplicate names KindConflict.
type IdentityStore interface {
	CreateDomain(ctx context.Context, d *Domain) error // Conflict on a duplicate name
	GetDomain(ctx context.Context, id string) (*Domain, error)
	GetDomainByName(ctx context.Context, name string) (*Domain, error)

	ListUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	UpdateUser(ctx context.Context, id string, u UserUpdate) (*User, error)
	// DeleteUser removes the user with its memberships, grants and tokens.
	DeleteUser(ctx context.Context, id string) error

	CreateGroup(ctx context.Context, g *Group) error // Conflict on a duplicate name in the domain
	GetGroup(ctx context.Context, id string) (*Group, error)
	ListGroups(ctx context.Context, f GroupFilter) ([]*Group, int, error)
	// AddGroupMember is idempotent; NotFound when the group or the user is unknown.
	AddGroupMember(ctx context.Context, groupID, userID string) error
	// RemoveGroupMember is NotFound when the user is not a member.
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	ListGroupMembers(ctx context.Context, groupID string) ([]*User, error)

	// FindProjectByName returns the oldest project of that name.
	FindProjectByName(ctx context.Context, name string) (*Project, error)
	// GrantRole is idempotent.
	GrantRole(ctx context.Context, g *RoleGrant) error
	// ProjectRoles lists the user's roles on the project (none: an empty slice).
	ProjectRoles(ctx context.Context, projectID, userID string) ([]Role, error)

	// UseGraceLogin counts one login with an expired password unless limit are
	// used already, and returns the count after it; Conflict when none is left,
	// NotFound for an unknown user.
	UseGraceLogin(ctx context.Context, userID string, limit int) (int, error)

	// CreateCredential stores a credential (its Blob already sealed).
	CreateCredential(ctx context.Context, c *Credential) error
	GetCredential(ctx context.Context, id string) (*Credential, error)
	// ListCredentials lists credentials oldest first.
	ListCredentials(ctx context.Context, f CredentialFilter) ([]*Credential, int, error)
	DeleteCredential(ctx context.Context, id string) error
	// AdvanceCredentialStep records step as the credential's last accepted TOTP
	// time step; Conflict when step is not after the one stored (a replay).
	AdvanceCredentialStep(ctx context.Context, id string, step int64) error
}

// DomainReader reads domains, by id or by name.
// UserReader reads one user by id.
type UserReader interface {
	GetUser(ctx context.Context, id string) (*User, error)
}

type DomainReader interface {
	GetDomain(ctx context.Context, id string) (*Domain, error)
	GetDomainByName(ctx context.Context, name string) (*Domain, error)
}

// ResolveDomain finds a domain by id or name; neither means the default domain.
func (s *Service) ResolveDomain(ctx context.Context, q DomainReader, id, name string) (*Domain, error) {
	var d *Domain
	var err error
	switch {
	case id != "":
		d, err = q.GetDomain(ctx, id)
		name = id
	case name != "":
		d, err = q.GetDomainByName(ctx, name)
	default:
		d, err = q.GetDomain(ctx, DefaultDomainID)
	}
	if ErrorKind(err) == KindNotFound {
		return nil, Reasoned(KindNotFound, ReasonDomainNotFound, "domain "+name+" not found", "domain_name", name)
	}
	return d, err
}

// scope resolves the project a login asks for and the user's roles on it.
func (s *Service) scope(ctx context.Context, u *User, sc ProjectScope) (*Project, []Role, error) {
	var p *Project
	var err error
	what := sc.ID
	if sc.ID != "" {
		if ValidID(sc.ID) {
			p, err = s.store.GetProject(ctx, sc.ID)
		} else {
			err = NotFound("project", sc.ID)
		}
	} else {
		what = sc.Name
		if _, err := s.ResolveDomain(ctx, s.store, sc.DomainID, sc.DomainName); err != nil {
			return nil, nil, unauthenticatedDomain(err)
		}
		p, err = s.store.FindProjectByName(ctx, sc.Name)
	}
	if ErrorKind(err) == KindNotFound {
		return nil, nil, Reasoned(KindUnauthenticated, ReasonProjectNotFound, "project "+what+" not found", "project_name", what)
	}
	if err != nil {
		return nil, nil, err
	}
	roles, err := s.rolesOn(ctx, p.ID, u)
	if err != nil {
		return nil, nil, err
	}
	if len(roles) == 0 {
		return nil, nil, Reasoned(KindUnauthenticated, ReasonProjectForbidden,
			"user "+u.Name+" has no role on project "+p.Name, "project_name", p.Name, "user_name", u.Name)
	}
	return p, roles, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func UserNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonUserNotFound, "user "+id+" not found", "user_name", id)
}

func GroupNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonGroupNotFound, "group "+id+" not found", "group_id", id)
}

// RealmUser finds a user by id among the accounts of realm; an account of
// another realm is not found, as an unknown id is not.
func RealmUser(ctx context.Context, q interface {
	GetUser(ctx context.Context, id string) (*User, error)
}, realm, id string) (*User, error) {
	u, err := q.GetUser(ctx, id)
	if ErrorKind(err) == KindNotFound || err == nil && u.Realm != realm {
		return nil, Errorf(KindNotFound, "user %s does not exist", id)
	}
	return u, err
}

// Domain is a namespace of users, groups and projects (Keystone's domain).
type Domain struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// Domain returns a domain by id. Domains are no one's secret: any caller, even
// one logging in (a login names its domain), may read one.
func (s *Service) Domain(ctx context.Context, id string) (*Domain, error) {
	return s.ResolveDomain(ctx, s.store, id, "")
}
