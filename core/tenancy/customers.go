package tenancy

import (
	"context"
	"fmt"
	"net/mail"

	"hostdeck/core"
	"hostdeck/core/billing"
)

// This file holds the customer accounts of the storage service (spec 003): a
// customer is a core User of RealmStorage (name = e-mail, role member); what
// only the storage service shows of it (full name, short name, how many
// projects it may own) is its Profile.

// DefaultProjectLimit is how many projects a user may own when nothing else
// was set.
const DefaultProjectLimit = 10

// CustomerInput is what creates or edits a customer; nil is not set.
type CustomerInput struct {
	Email        *string
	FullName     *string
	ShortName    *string
	Password     *string
	ProjectLimit *int
}

// Customer is a customer's user with its profile.
type Customer struct {
	*core.User
	Profile *Profile
}

// Account is a customer with the projects it owns and its coupons.
type Account struct {
	Customer
	Projects []*core.Project
	Coupons  []*billing.Coupon
}

func checkEmail(email string) error {
	if err := core.CheckName("email", email, core.MaxEmailLen); err != nil {
		return err
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return core.Invalid("email", "email is not valid")
	}
	return nil
}

// checkProfile applies the text rules to the profile fields of in that are set.
func checkProfile(in CustomerInput) error {
	if err := core.CheckOptional(in.FullName, func(v string) error { return core.CheckLine("full_name", v, core.MaxNameLen) }); err != nil {
		return err
	}
	if err := core.CheckOptional(in.ShortName, func(v string) error { return core.CheckLine("short_name", v, core.MaxNameLen) }); err != nil {
		return err
	}
	if in.ProjectLimit != nil && *in.ProjectLimit < 0 {
		return core.Invalid("project_limit", "project_limit must not be negative")
	}
	return nil
}

func customerNotFound(email string) error {
	return core.Reasoned(core.KindNotFound, core.ReasonUserNotFound, fmt.Sprintf("user with email %q does not exist", email), "user_name", email)
}

// profileOf is the user's profile, or the defaults when the user has none (a
// user created by another face).
func (s *Service) profileOf(ctx context.Context, q Queries, u *core.User) (*Profile, error) {
	p, err := q.GetUserProfile(ctx, u.ID)
	if core.ErrorKind(err) == core.KindNotFound {
		return &Profile{UserID: u.ID, ProjectLimit: DefaultProjectLimit, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, nil
	}
	return p, err
}

// CreateCustomer creates a customer account (RealmStorage): a member
// user named by its e-mail, with a profile (admins only). The e-mail
// must parse, the password pass CheckPassword; a taken e-mail is KindConflict.
func (s *Service) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	if err := s.Check(ctx, core.ActionUserCreate, core.Resource{Type: core.ResourceUser}); err != nil {
		return nil, err
	}
	switch {
	case in.Email == nil || *in.Email == "":
		return nil, core.Invalid("email", "email is not set")
	case in.Password == nil || *in.Password == "":
		return nil, core.Invalid("password", "password is not set")
	}
	if err := checkEmail(*in.Email); err != nil {
		return nil, err
	}
	if err := checkProfile(in); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	u := &core.User{ID: core.NewID(), Name: *in.Email, Email: *in.Email, Role: core.RoleMember, DomainID: core.DefaultDomainID, Realm: core.RealmStorage}
	if err := s.logins.SetNewPassword(ctx, u, *in.Password); err != nil {
		return nil, err
	}
	p := &Profile{UserID: u.ID, ProjectLimit: DefaultProjectLimit, CreatedAt: now, UpdatedAt: now}
	if in.FullName != nil {
		p.FullName = *in.FullName
	}
	if in.ShortName != nil {
		p.ShortName = *in.ShortName
	}
	if in.ProjectLimit != nil {
		p.ProjectLimit = *in.ProjectLimit
	}
	err := s.change(ctx, func(q Queries) error {
		if _, err := q.GetUserByName(ctx, u.Name); err == nil {
			return core.Errorf(core.KindConflict, "user with email already exists")
		} else if core.ErrorKind(err) != core.KindNotFound {
			return err
		}
		if err := q.CreateUser(ctx, u); err != nil {
			if core.ErrorKind(err) == core.KindConflict {
				return core.Errorf(core.KindConflict, "user with email already exists")
			}
			return err
		}
		if err := q.PutUserProfile(ctx, p); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.user.create", "user", u.ID, map[string]any{"email": u.Email, "project_limit": p.ProjectLimit})
	})
	if err != nil {
		return nil, err
	}
	return &Customer{User: u, Profile: p}, nil
}

// customerByEmail finds a customer account by e-mail (its name); any other
// account, a hostdeck administrator's included, is not found.
func (s *Service) customerByEmail(ctx context.Context, q Queries, email string) (*core.User, error) {
	if core.CheckName("email", email, core.MaxEmailLen) != nil {
		return nil, customerNotFound(core.LogText(email))
	}
	u, err := q.GetUserByName(ctx, email)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && u.Realm != core.RealmStorage {
		return nil, customerNotFound(email)
	}
	return u, err
}

// Account returns a user found by e-mail with its profile, the
// projects it owns and its coupons (admins only).
func (s *Service) Account(ctx context.Context, email string) (*Account, error) {
	if err := s.Check(ctx, core.ActionUserView, core.Resource{Type: core.ResourceUser}); err != nil {
		return nil, err
	}
	u, err := s.customerByEmail(ctx, s.store, email)
	if err != nil {
		return nil, err
	}
	p, err := s.profileOf(ctx, s.store, u)
	if err != nil {
		return nil, err
	}
	projects, err := s.store.ListProjectsByOwner(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	coupons, err := s.store.ListCoupons(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	for _, c := range coupons {
		c.Status = c.StatusAt(now)
	}
	return &Account{Customer: Customer{User: u, Profile: p}, Projects: projects, Coupons: coupons}, nil
}

// UpdateCustomer changes a customer account's e-mail (and so its name),
// full name, short name, project limit or password (admins only). A new
// password ends the tokens and sessions the old one opened.
func (s *Service) UpdateCustomer(ctx context.Context, email string, in CustomerInput) (*Customer, error) {
	if err := s.Check(ctx, core.ActionUserEdit, core.Resource{Type: core.ResourceUser}); err != nil {
		return nil, err
	}
	if in.Email != nil {
		if err := checkEmail(*in.Email); err != nil {
			return nil, err
		}
	}
	if err := checkProfile(in); err != nil {
		return nil, err
	}
	up, err := s.logins.PasswordChange(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var out *Customer
	defer s.logins.CredentialsChanged() // a customer renamed or given a password ends its cached logins
	err = s.change(ctx, func(q Queries) error {
		u, err := s.customerByEmail(ctx, q, email)
		if err != nil {
			return err
		}
		if in.Email != nil && *in.Email != u.Name {
			if _, err := q.GetUserByName(ctx, *in.Email); err == nil {
				return core.Errorf(core.KindConflict, "user with email already exists")
			} else if core.ErrorKind(err) != core.KindNotFound {
				return err
			}
			up.Name, up.Email = in.Email, in.Email
		}
		if up.Name != nil || up.PasswordHash != nil {
			if u, err = q.UpdateUser(ctx, u.ID, up); err != nil {
				return err
			}
		}
		p, err := s.profileOf(ctx, q, u)
		if err != nil {
			return err
		}
		if in.FullName != nil {
			p.FullName = *in.FullName
		}
		if in.ShortName != nil {
			p.ShortName = *in.ShortName
		}
		if in.ProjectLimit != nil {
			p.ProjectLimit = *in.ProjectLimit
		}
		p.UpdatedAt = s.Now().UTC()
		if err := q.PutUserProfile(ctx, p); err != nil {
			return err
		}
		out = &Customer{User: u, Profile: p}
		return s.Audit(ctx, q, "satellite.user.update", "user", u.ID, map[string]any{
			"email": in.Email != nil, "full_name": in.FullName != nil, "short_name": in.ShortName != nil,
			"project_limit": in.ProjectLimit, "password": up.PasswordHash != nil,
		})
	})
	return out, err
}

// DeleteCustomer deletes a user found by e-mail with its profile and
// coupons (admins only); KindConflict while the user owns projects.
func (s *Service) DeleteCustomer(ctx context.Context, email string) error {
	if err := s.Check(ctx, core.ActionUserDelete, core.Resource{Type: core.ResourceUser}); err != nil {
		return err
	}
	defer s.logins.CredentialsChanged() // its cached logins end with it
	return s.change(ctx, func(q Queries) error {
		u, err := s.customerByEmail(ctx, q, email)
		if err != nil {
			return err
		}
		if core.ActorFrom(ctx).UserID == u.ID {
			return core.Errorf(core.KindConflict, "you cannot delete your own account")
		}
		projects, err := q.ListProjectsByOwner(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(projects) > 0 {
			return core.Errorf(core.KindConflict, "user owns %d project(s): delete them first", len(projects))
		}
		coupons, err := q.ListCoupons(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, c := range coupons {
			if err := q.DeleteCoupon(ctx, c.ID); err != nil {
				return err
			}
		}
		if err := q.DeleteUserProfile(ctx, u.ID); err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.user.delete", "user", u.ID, map[string]string{"email": u.Email})
	})
}
