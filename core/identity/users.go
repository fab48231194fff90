package identity

import (
	"context"
	"strings"

	"hostdeck/core"
)

// UserInput is what creates or edits a user; nil fields are not set. Enabled
// defaults to true on creation, DomainID to the default domain, Role to member.
type UserInput struct {
	Name     *string
	Email    *string
	Phone    *string // "" clears it
	Password *string
	DomainID *string
	Role     *core.Role
	Enabled  *bool
}

// checkUserInput applies the text rules to the fields of in that are set.
func checkUserInput(in UserInput) error {
	if err := core.CheckOptional(in.Name, func(v string) error { return core.CheckName("name", v, core.MaxNameLen) }); err != nil {
		return err
	}
	if err := core.CheckOptional(in.Email, func(v string) error { return core.CheckLine("email", v, core.MaxEmailLen) }); err != nil {
		return err
	}
	return core.CheckOptional(in.Phone, CheckPhone)
}

// MaxPhoneLen bounds a phone number.
const MaxPhoneLen = 32

// CheckPhone is the rule of a user's phone number: at most MaxPhoneLen
// characters, of digits, spaces, '+', '-', '(' and ')' only; empty is none.
func CheckPhone(phone string) error {
	if len(phone) > MaxPhoneLen {
		return core.Invalid("phone", "phone is %d characters long; at most %d are allowed", len(phone), MaxPhoneLen)
	}
	for _, r := range phone {
		if (r < '0' || r > '9') && !strings.ContainsRune(" +-()", r) {
			return core.Invalid("phone", "phone may hold only digits, spaces, +, -, ( and )")
		}
	}
	return nil
}

// CreateUser creates a user of the actor's realm (admins only). The password
// must pass login.CheckPassword; it is hashed with the Hasher (argon2id).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*core.User, error) {
	if err := s.Check(ctx, core.ActionUserCreate, core.Resource{Type: core.ResourceUser}); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, core.Invalid("name", "name is required")
	}
	if err := checkUserInput(in); err != nil {
		return nil, err
	}
	if in.Password == nil {
		return nil, core.Invalid("password", "password is required")
	}
	u := &core.User{Name: *in.Name, Role: core.RoleMember, DomainID: core.DefaultDomainID, Realm: core.ActorFrom(ctx).ManagedRealm()}
	if in.Email != nil {
		u.Email = *in.Email
	}
	if in.Phone != nil {
		u.Phone = *in.Phone
	}
	if in.Role != nil {
		if !core.ValidRole(*in.Role) {
			return nil, core.Invalid("role", "role must be admin or member")
		}
		u.Role = *in.Role
	}
	if in.Enabled != nil {
		u.Disabled = !*in.Enabled
	}
	if err := s.passwords.SetNewPassword(ctx, u, *in.Password); err != nil {
		return nil, err
	}
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if in.DomainID != nil && *in.DomainID != "" {
			d, err := s.ResolveDomain(ctx, q, *in.DomainID, "")
			if err != nil {
				return err
			}
			u.DomainID = d.ID
		}
		u.ID = core.NewID()
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

// EnsureAdmin creates the admin account on first start. With an empty password it
// generates one and returns it (to be printed once); an existing account is never
// changed.
func (s *Service) EnsureAdmin(ctx context.Context, name, password string) (generated string, err error) {
	if name == "" {
		name = "admin"
	}
	if _, err := s.store.GetUserByName(ctx, name); err == nil {
		return "", nil
	} else if core.ErrorKind(err) != core.KindNotFound {
		return "", err
	}
	if err := core.CheckName("name", name, core.MaxNameLen); err != nil {
		return "", err
	}
	if password == "" {
		password = s.NewPassword()
		generated = password
	}
	u := &core.User{ID: core.NewID(), Name: name, Role: core.RoleAdmin, Realm: core.RealmHostdeck}
	if err := s.passwords.SetNewPassword(ctx, u, password); err != nil {
		return "", err
	}
	err = core.InTx(ctx, s.store, func(q Queries) error {
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.Audit(ctx, q, "user.create", "user", u.ID, map[string]string{"name": name})
	})
	if core.ErrorKind(err) == core.KindConflict { // another replica created it first
		return "", nil
	}
	return generated, err
}

// ListUsers lists the users of the actor's realm (admins only).
func (s *Service) ListUsers(ctx context.Context, f core.UserFilter) ([]*core.User, int, error) {
	if err := s.Check(ctx, core.ActionUserView, core.Resource{Type: core.ResourceUser}); err != nil {
		return nil, 0, err
	}
	realm := core.ActorFrom(ctx).ManagedRealm()
	f.Realm = &realm
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	return s.store.ListUsers(ctx, f)
}

// GetUser returns a user: admins see anyone of their realm, members themselves.
func (s *Service) GetUser(ctx context.Context, id string) (*core.User, error) {
	if err := s.Check(ctx, core.ActionUserView, core.UserResource(id)); err != nil {
		return nil, err
	}
	return core.ManagedUser(ctx, s.store, id)
}

// UpdateUser changes a user's name, e-mail, phone, password or enabled flag
// (admins only, on users of their realm). A new password ends the tokens and
// sessions the old one opened; disabling the user refuses its passwords,
// tokens, sessions and API keys from the next request on, on every face (at
// once in this process, within login.CachedFor on other replicas), and
// enabling it again lets them work again (but those a new password ended).
func (s *Service) UpdateUser(ctx context.Context, id string, in UserInput) (*core.User, error) {
	if err := s.Check(ctx, core.ActionUserEdit, core.UserResource(id)); err != nil {
		return nil, err
	}
	if in.DomainID != nil {
		return nil, core.Invalid("domain_id", "a user cannot move to another domain")
	}
	if in.Role != nil {
		return nil, core.Invalid("role", "roles are granted, not edited")
	}
	if err := checkUserInput(in); err != nil {
		return nil, err
	}
	up, err := s.passwords.PasswordChange(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	up.Name, up.Email, up.Phone = in.Name, in.Email, in.Phone
	if in.Enabled != nil {
		up.Disabled = core.Ptr(!*in.Enabled)
	}
	var u *core.User
	defer s.passwords.CredentialsChanged() // a user renamed, disabled or given a password ends its cached logins
	err = core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := core.ManagedUser(ctx, q, id); err != nil {
			return err
		}
		var err error
		if u, err = q.UpdateUser(ctx, id, up); err != nil {
			return err
		}
		detail := map[string]any{"name": up.Name != nil, "email": up.Email != nil, "phone": up.Phone != nil, "password": up.PasswordHash != nil}
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
	if err := s.Check(ctx, core.ActionUserDelete, core.UserResource(id)); err != nil {
		return err
	}
	if core.ActorFrom(ctx).UserID == id {
		return core.Errorf(core.KindConflict, "you cannot delete your own account")
	}
	defer s.passwords.CredentialsChanged() // its cached logins end with it
	return core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := core.ManagedUser(ctx, q, id); err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "user.delete", "user", id, nil)
	})
}

// GetUserByNumber is GetUser of the user numbered n.
func (s *Service) GetUserByNumber(ctx context.Context, n int64) (*core.User, error) {
	id, err := core.IDOfNumber(ctx, s.store, core.NumberUser, "user", n)
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// GroupInput is what creates or edits a group; nil fields are not set.
// DomainID defaults to the default domain on creation and cannot change.
type GroupInput struct {
	Name        *string
	DomainID    *string
	Description *string
}

// CreateGroup creates a group (admins only), recording the actor's name as
// its creator. A name taken in the domain is KindConflict.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*core.Group, error) {
	if err := s.Check(ctx, core.ActionGroupCreate, core.Resource{Type: core.ResourceGroup}); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, core.Invalid("name", "name is required")
	}
	if err := core.CheckName("name", *in.Name, core.MaxNameLen); err != nil {
		return nil, err
	}
	if err := core.CheckOptional(in.Description, func(v string) error { return core.CheckText("description", v, core.MaxTextLen) }); err != nil {
		return nil, err
	}
	g := &core.Group{ID: core.NewID(), Name: *in.Name, DomainID: core.DefaultDomainID, Creator: core.ActorFrom(ctx).Name}
	if in.Description != nil {
		g.Description = *in.Description
	}
	err := core.InTx(ctx, s.store, func(q Queries) error {
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

// GetGroup returns a group (admins only); an unknown id is GroupNotFound.
func (s *Service) GetGroup(ctx context.Context, id string) (*core.Group, error) {
	if err := s.Check(ctx, core.ActionGroupView, core.On(core.ResourceGroup, id)); err != nil {
		return nil, err
	}
	return s.group(ctx, s.store, id)
}

// GetGroupByNumber is GetGroup of the group numbered n.
func (s *Service) GetGroupByNumber(ctx context.Context, n int64) (*core.Group, error) {
	id, err := core.IDOfNumber(ctx, s.store, core.NumberGroup, "group", n)
	if err != nil {
		return nil, err
	}
	return s.GetGroup(ctx, id)
}

// group reads a group; a malformed or unknown id is GroupNotFound.
func (s *Service) group(ctx context.Context, q Queries, id string) (*core.Group, error) {
	if !core.ValidID(id) {
		return nil, core.GroupNotFound(id)
	}
	g, err := q.GetGroup(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, core.GroupNotFound(id)
	}
	return g, err
}

// UpdateGroup renames a group or changes its description (admins only:
// group.edit). A name taken in the domain is KindConflict; a group does not
// move to another domain.
func (s *Service) UpdateGroup(ctx context.Context, id string, in GroupInput) (*core.Group, error) {
	if err := s.Check(ctx, core.ActionGroupEdit, core.On(core.ResourceGroup, id)); err != nil {
		return nil, err
	}
	if in.DomainID != nil {
		return nil, core.Invalid("domain_id", "a group cannot move to another domain")
	}
	if err := core.CheckOptional(in.Name, func(v string) error { return core.CheckName("name", v, core.MaxNameLen) }); err != nil {
		return nil, err
	}
	if err := core.CheckOptional(in.Description, func(v string) error { return core.CheckText("description", v, core.MaxTextLen) }); err != nil {
		return nil, err
	}
	var g *core.Group
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := s.group(ctx, q, id); err != nil {
			return err
		}
		var err error
		if g, err = q.UpdateGroup(ctx, id, core.GroupUpdate{Name: in.Name, Description: in.Description}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "group.update", "group", id, map[string]any{"name": g.Name, "description": in.Description != nil})
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DeleteGroup removes a group with its memberships and the permissions
// granted to it (admins only: group.edit).
func (s *Service) DeleteGroup(ctx context.Context, id string) error {
	if err := s.Check(ctx, core.ActionGroupEdit, core.On(core.ResourceGroup, id)); err != nil {
		return err
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
		g, err := s.group(ctx, q, id)
		if err != nil {
			return err
		}
		if err := q.DeleteGroup(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "group.delete", "group", id, map[string]string{"name": g.Name, "domain_id": g.DomainID})
	})
}

// UserGroups lists the groups a user of the actor's realm is a member of, by
// name: admins anyone's, members their own.
func (s *Service) UserGroups(ctx context.Context, userID string) ([]*core.Group, error) {
	if err := s.Check(ctx, core.ActionUserView, core.UserResource(userID)); err != nil {
		return nil, err
	}
	if _, err := core.ManagedUser(ctx, s.store, userID); err != nil {
		return nil, err
	}
	return s.store.ListUserGroups(ctx, userID)
}

// ListGroups lists groups (admins only).
func (s *Service) ListGroups(ctx context.Context, f core.GroupFilter) ([]*core.Group, int, error) {
	if err := s.Check(ctx, core.ActionGroupView, core.Resource{Type: core.ResourceGroup}); err != nil {
		return nil, 0, err
	}
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	return s.store.ListGroups(ctx, f)
}

// GroupMembers lists a group's users (admins only).
func (s *Service) GroupMembers(ctx context.Context, groupID string) ([]*core.User, error) {
	if err := s.Check(ctx, core.ActionGroupView, core.On(core.ResourceGroup, groupID)); err != nil {
		return nil, err
	}
	if _, err := s.group(ctx, s.store, groupID); err != nil {
		return nil, err
	}
	return s.store.ListGroupMembers(ctx, groupID)
}

// checkUserAndGroup resolves both ids to not-found errors with reasons; a user
// outside the actor's realm is not found.
func (s *Service) checkUserAndGroup(ctx context.Context, q Queries, groupID, userID string) error {
	if !core.ValidID(groupID) {
		return core.GroupNotFound(groupID)
	}
	if _, err := q.GetGroup(ctx, groupID); err != nil {
		if core.ErrorKind(err) == core.KindNotFound {
			return core.GroupNotFound(groupID)
		}
		return err
	}
	_, err := core.ManagedUser(ctx, q, userID)
	return err
}

// AddGroupMember adds a user to a group (admins only; adding twice is no change).
func (s *Service) AddGroupMember(ctx context.Context, groupID, userID string) error {
	if err := s.Check(ctx, core.ActionGroupEdit, core.On(core.ResourceGroup, groupID)); err != nil {
		return err
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
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
	if err := s.Check(ctx, core.ActionGroupEdit, core.On(core.ResourceGroup, groupID)); err != nil {
		return err
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
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
func (s *Service) GrantProjectRole(ctx context.Context, projectID, userID string, role core.Role) error {
	if err := s.Check(ctx, core.ActionProjectGrant, core.On(core.ResourceProject, projectID)); err != nil {
		return err
	}
	if !core.ValidRole(role) {
		return core.Reasoned(core.KindNotFound, "role_not_found", "role "+string(role)+" not found", "role", string(role))
	}
	if !core.ValidID(projectID) {
		return core.Reasoned(core.KindNotFound, core.ReasonProjectNotFound, "project "+projectID+" not found", "project_name", projectID)
	}
	defer s.passwords.CredentialsChanged() // the user's cached tokens scoped to the project carry its roles
	return core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := q.GetProject(ctx, projectID); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return core.Reasoned(core.KindNotFound, core.ReasonProjectNotFound, "project "+projectID+" not found", "project_name", projectID)
			}
			return err
		}
		if _, err := core.ManagedUser(ctx, q, userID); err != nil {
			return err
		}
		if err := q.GrantRole(ctx, &core.RoleGrant{ProjectID: projectID, UserID: userID, Role: role, CreatedAt: s.Now().UTC()}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "role.grant", "project", projectID, map[string]string{"user_id": userID, "role": string(role)})
	})
}

// ProjectRoles lists a user's roles on a project: admins may ask about anyone,
// members about themselves.
func (s *Service) ProjectRoles(ctx context.Context, projectID, userID string) ([]core.Role, error) {
	if err := s.Check(ctx, core.ActionUserView, core.UserResource(userID)); err != nil {
		return nil, err
	}
	return s.store.ProjectRoles(ctx, projectID, userID)
}
