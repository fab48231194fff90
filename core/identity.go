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

// Domain is a namespace of users, groups and projects (Keystone's domain).
type Domain struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

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
type DomainReader interface {
	GetDomain(ctx context.Context, id string) (*Domain, error)
	GetDomainByName(ctx context.Context, name string) (*Domain, error)
}

// resolveDomain finds a domain by id or name; neither means the default domain.
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

// Domain returns a domain by id. Domains are no one's secret: any caller, even
// one logging in (a login names its domain), may read one.
func (s *Service) Domain(ctx context.Context, id string) (*Domain, error) {
	return s.ResolveDomain(ctx, s.store, id, "")
}

// UserInput is what creates or edits a user; nil fields are not set. Enabled
// defaults to true on creation, DomainID to the default domain, Role to member.
type UserInput struct {
	Name     *string
	Email    *string
	Password *string
	DomainID *string
	Role     *Role
	Enabled  *bool
}

func UserNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonUserNotFound, "user "+id+" not found", "user_name", id)
}

// checkUserInput applies the text rules to the fields of in that are set.
func checkUserInput(in UserInput) error {
	if err := CheckOptional(in.Name, func(v string) error { return CheckName("name", v, MaxNameLen) }); err != nil {
		return err
	}
	return CheckOptional(in.Email, func(v string) error { return CheckLine("email", v, MaxEmailLen) })
}

// CreateUser creates a user of the actor's realm (admins only). The password
// must pass CheckPassword; it is hashed with the Hasher (argon2id).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*User, error) {
	if err := s.Check(ctx, ActionUserCreate, Resource{Type: ResourceUser}); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, Invalid("name", "name is required")
	}
	if err := checkUserInput(in); err != nil {
		return nil, err
	}
	if in.Password == nil {
		return nil, Invalid("password", "password is required")
	}
	u := &User{Name: *in.Name, Role: RoleMember, DomainID: DefaultDomainID, Realm: ActorFrom(ctx).realm()}
	if in.Email != nil {
		u.Email = *in.Email
	}
	if in.Role != nil {
		if !validRole(*in.Role) {
			return nil, Invalid("role", "role must be admin or member")
		}
		u.Role = *in.Role
	}
	if in.Enabled != nil {
		u.Disabled = !*in.Enabled
	}
	if err := s.SetNewPassword(u, *in.Password); err != nil {
		return nil, err
	}
	err := s.store.InTx(ctx, func(q Queries) error {
		if in.DomainID != nil && *in.DomainID != "" {
			d, err := s.ResolveDomain(ctx, q, *in.DomainID, "")
			if err != nil {
				return err
			}
			u.DomainID = d.ID
		}
		u.ID = NewID()
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.Audit(ctx, q, "user.create", "user", u.ID, map[string]string{"name": u.Name, "domain_id": u.DomainID})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers lists the users of the actor's realm (admins only).
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]*User, int, error) {
	if err := s.Check(ctx, ActionUserView, Resource{Type: ResourceUser}); err != nil {
		return nil, 0, err
	}
	realm := ActorFrom(ctx).realm()
	f.Realm = &realm
	if err := f.check(); err != nil {
		return nil, 0, err
	}
	return s.store.ListUsers(ctx, f)
}

// GetUser returns a user: admins see anyone of their realm, members themselves.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	if err := s.Check(ctx, ActionUserView, UserResource(id)); err != nil {
		return nil, err
	}
	return managedUser(ctx, s.store, id)
}

// UpdateUser changes a user's name, e-mail, password or enabled flag (admins
// only, on users of their realm). A new password ends the tokens and sessions
// the old one opened.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserInput) (*User, error) {
	if err := s.Check(ctx, ActionUserEdit, UserResource(id)); err != nil {
		return nil, err
	}
	if in.DomainID != nil {
		return nil, Invalid("domain_id", "a user cannot move to another domain")
	}
	if in.Role != nil {
		return nil, Invalid("role", "roles are granted, not edited")
	}
	if err := checkUserInput(in); err != nil {
		return nil, err
	}
	up, err := s.PasswordChange(in.Password)
	if err != nil {
		return nil, err
	}
	up.Name, up.Email = in.Name, in.Email
	if in.Enabled != nil {
		up.Disabled = Ptr(!*in.Enabled)
	}
	var u *User
	err = s.store.InTx(ctx, func(q Queries) error {
		if _, err := managedUser(ctx, q, id); err != nil {
			return err
		}
		var err error
		if u, err = q.UpdateUser(ctx, id, up); err != nil {
			return err
		}
		detail := map[string]any{"name": up.Name != nil, "email": up.Email != nil, "password": up.PasswordHash != nil}
		if up.Disabled != nil {
			detail["enabled"] = !*up.Disabled
		}
		return s.Audit(ctx, q, "user.update", "user", id, detail)
	})
	return u, err
}

// DeleteUser removes a user of the actor's realm with its memberships, grants
// and tokens (admins only; nobody deletes their own account).
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionUserDelete, UserResource(id)); err != nil {
		return err
	}
	if ActorFrom(ctx).UserID == id {
		return Errorf(KindConflict, "you cannot delete your own account")
	}
	return s.store.InTx(ctx, func(q Queries) error {
		if _, err := managedUser(ctx, q, id); err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "user.delete", "user", id, nil)
	})
}

// GroupInput is what creates a group; DomainID defaults to the default domain.
type GroupInput struct {
	Name        *string
	DomainID    *string
	Description *string
}

// CreateGroup creates a group (admins only).
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	if err := s.Check(ctx, ActionGroupCreate, Resource{Type: ResourceGroup}); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, Invalid("name", "name is required")
	}
	if err := CheckName("name", *in.Name, MaxNameLen); err != nil {
		return nil, err
	}
	if err := CheckOptional(in.Description, func(v string) error { return CheckText("description", v, MaxTextLen) }); err != nil {
		return nil, err
	}
	g := &Group{ID: NewID(), Name: *in.Name, DomainID: DefaultDomainID}
	if in.Description != nil {
		g.Description = *in.Description
	}
	err := s.store.InTx(ctx, func(q Queries) error {
		if in.DomainID != nil && *in.DomainID != "" {
			d, err := s.ResolveDomain(ctx, q, *in.DomainID, "")
			if err != nil {
				return err
			}
			g.DomainID = d.ID
		}
		if err := q.CreateGroup(ctx, g); err != nil {
			return err
		}
		return s.Audit(ctx, q, "group.create", "group", g.ID, map[string]string{"name": g.Name, "domain_id": g.DomainID})
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// ListGroups lists groups (admins only).
func (s *Service) ListGroups(ctx context.Context, f GroupFilter) ([]*Group, int, error) {
	if err := s.Check(ctx, ActionGroupView, Resource{Type: ResourceGroup}); err != nil {
		return nil, 0, err
	}
	if err := f.check(); err != nil {
		return nil, 0, err
	}
	return s.store.ListGroups(ctx, f)
}

// GroupMembers lists a group's users (admins only).
func (s *Service) GroupMembers(ctx context.Context, groupID string) ([]*User, error) {
	if err := s.Check(ctx, ActionGroupView, On(ResourceGroup, groupID)); err != nil {
		return nil, err
	}
	if !ValidID(groupID) {
		return nil, GroupNotFound(groupID)
	}
	if _, err := s.store.GetGroup(ctx, groupID); err != nil {
		if ErrorKind(err) == KindNotFound {
			return nil, GroupNotFound(groupID)
		}
		return nil, err
	}
	return s.store.ListGroupMembers(ctx, groupID)
}

func GroupNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonGroupNotFound, "group "+id+" not found", "group_id", id)
}

// checkUserAndGroup resolves both ids to not-found errors with reasons; a user
// outside the actor's realm is not found.
func (s *Service) checkUserAndGroup(ctx context.Context, q Queries, groupID, userID string) error {
	if !ValidID(groupID) {
		return GroupNotFound(groupID)
	}
	if _, err := q.GetGroup(ctx, groupID); err != nil {
		if ErrorKind(err) == KindNotFound {
			return GroupNotFound(groupID)
		}
		return err
	}
	_, err := managedUser(ctx, q, userID)
	return err
}

// AddGroupMember adds a user to a group (admins only; adding twice is no change).
func (s *Service) AddGroupMember(ctx context.Context, groupID, userID string) error {
	if err := s.Check(ctx, ActionGroupEdit, On(ResourceGroup, groupID)); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(q Queries) error {
		if err := s.checkUserAndGroup(ctx, q, groupID, userID); err != nil {
			return err
		}
		if err := q.AddGroupMember(ctx, groupID, userID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "group.add_member", "group", groupID, map[string]string{"user_id": userID})
	})
}

// RemoveGroupMember removes a user from a group (admins only); NotFound when the
// user is not a member.
func (s *Service) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	if err := s.Check(ctx, ActionGroupEdit, On(ResourceGroup, groupID)); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(q Queries) error {
		if err := s.checkUserAndGroup(ctx, q, groupID, userID); err != nil {
			return err
		}
		if err := q.RemoveGroupMember(ctx, groupID, userID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "group.remove_member", "group", groupID, map[string]string{"user_id": userID})
	})
}

// GrantProjectRole gives a user of the actor's realm a role on a project
// (admins only; granting twice is no change).
func (s *Service) GrantProjectRole(ctx context.Context, projectID, userID string, role Role) error {
	if err := s.Check(ctx, ActionProjectGrant, On(ResourceProject, projectID)); err != nil {
		return err
	}
	if !validRole(role) {
		return Reasoned(KindNotFound, "role_not_found", "role "+string(role)+" not found", "role", string(role))
	}
	if !ValidID(projectID) {
		return Reasoned(KindNotFound, ReasonProjectNotFound, "project "+projectID+" not found", "project_name", projectID)
	}
	return s.store.InTx(ctx, func(q Queries) error {
		if _, err := q.GetProject(ctx, projectID); err != nil {
			if ErrorKind(err) == KindNotFound {
				return Reasoned(KindNotFound, ReasonProjectNotFound, "project "+projectID+" not found", "project_name", projectID)
			}
			return err
		}
		if _, err := managedUser(ctx, q, userID); err != nil {
			return err
		}
		if err := q.GrantRole(ctx, &RoleGrant{ProjectID: projectID, UserID: userID, Role: role, CreatedAt: s.Now().UTC()}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "role.grant", "project", projectID, map[string]string{"user_id": userID, "role": string(role)})
	})
}

// ProjectRoles lists a user's roles on a project: admins may ask about anyone,
// members about themselves.
func (s *Service) ProjectRoles(ctx context.Context, projectID, userID string) ([]Role, error) {
	if err := s.Check(ctx, ActionUserView, UserResource(userID)); err != nil {
		return nil, err
	}
	return s.store.ProjectRoles(ctx, projectID, userID)
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
