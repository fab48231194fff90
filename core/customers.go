package core

import (
	"context"
	"fmt"
	"net/mail"
	"time"
)

// This file holds the customer accounts of the storage service (spec 003): a
// customer is a core User of RealmSatellite (name = e-mail, role member); what
// only the storage service shows of it (full name, short name, how many
// projects it may own) is its Profile.

// DefaultProjectLimit is how many projects a user may own when nothing else
// was set.
const DefaultProjectLimit = 10

// UserProfile is the satellite's account data of a user.
type UserProfile struct {
	UserID       string    `json:"user_id"`
	FullName     string    `json:"full_name"`
	ShortName    string    `json:"short_name"`
	ProjectLimit int       `json:"project_limit"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ProfileStore keeps customers' profiles. Unknown ids are KindNotFound.
type ProfileStore interface {
	GetUserProfile(ctx context.Context, userID string) (*UserProfile, error)
	// PutUserProfile creates or replaces the profile.
	PutUserProfile(ctx context.Context, p *UserProfile) error
	// DeleteUserProfile removes the profile; an absent one is not an error.
	DeleteUserProfile(ctx context.Context, userID string) error
}

// SatelliteUserInput is what creates or edits a satellite user; nil is not set.
type SatelliteUserInput struct {
	Email        *string
	FullName     *string
	ShortName    *string
	Password     *string
	ProjectLimit *int
}

// SatelliteUser is a user with its satellite profile.
type SatelliteUser struct {
	*User
	Profile *UserProfile
}

// SatelliteAccount is what GET /api/user/{email} shows.
type SatelliteAccount struct {
	SatelliteUser
	Projects []*Project
	Coupons  []*Coupon
}

func checkEmail(email string) error {
	if err := CheckName("email", email, MaxEmailLen); err != nil {
		return err
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return Invalid("email", "email is not valid")
	}
	return nil
}

// checkProfile applies the text rules to the profile fields of in that are set.
func checkProfile(in SatelliteUserInput) error {
	if err := CheckOptional(in.FullName, func(v string) error { return CheckLine("fullName", v, MaxNameLen) }); err != nil {
		return err
	}
	if err := CheckOptional(in.ShortName, func(v string) error { return CheckLine("shortName", v, MaxNameLen) }); err != nil {
		return err
	}
	if in.ProjectLimit != nil && *in.ProjectLimit < 0 {
		return Invalid("projectLimit", "projectLimit must not be negative")
	}
	return nil
}

func satUserNotFound(email string) error {
	return Reasoned(KindNotFound, ReasonUserNotFound, fmt.Sprintf("user with email %q does not exist", email), "user_name", email)
}

// profileOf is the user's profile, or the defaults when the user has none (a
// user created by another face).
func (s *Service) profileOf(ctx context.Context, q Queries, u *User) (*UserProfile, error) {
	p, err := q.GetUserProfile(ctx, u.ID)
	if ErrorKind(err) == KindNotFound {
		return &UserProfile{UserID: u.ID, ProjectLimit: DefaultProjectLimit, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, nil
	}
	return p, err
}

// CreateSatelliteUser creates a satellite account (RealmSatellite): a member
// user named by its e-mail, with a satellite profile (admins only). The e-mail
// must parse, the password pass CheckPassword; a taken e-mail is KindConflict.
func (s *Service) CreateSatelliteUser(ctx context.Context, in SatelliteUserInput) (*SatelliteUser, error) {
	if err := s.Check(ctx, ActionUserCreate, Resource{Type: ResourceUser}); err != nil {
		return nil, err
	}
	switch {
	case in.Email == nil || *in.Email == "":
		return nil, Invalid("email", "email is not set")
	case in.Password == nil || *in.Password == "":
		return nil, Invalid("password", "password is not set")
	}
	if err := checkEmail(*in.Email); err != nil {
		return nil, err
	}
	if err := checkProfile(in); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	u := &User{ID: NewID(), Name: *in.Email, Email: *in.Email, Role: RoleMember, DomainID: DefaultDomainID, Realm: RealmSatellite}
	if err := s.setNewPassword(u, *in.Password); err != nil {
		return nil, err
	}
	p := &UserProfile{UserID: u.ID, ProjectLimit: DefaultProjectLimit, CreatedAt: now, UpdatedAt: now}
	if in.FullName != nil {
		p.FullName = *in.FullName
	}
	if in.ShortName != nil {
		p.ShortName = *in.ShortName
	}
	if in.ProjectLimit != nil {
		p.ProjectLimit = *in.ProjectLimit
	}
	err := s.Change(ctx, func(q Queries) error {
		if _, err := q.GetUserByName(ctx, u.Name); err == nil {
			return Errorf(KindConflict, "user with email already exists")
		} else if ErrorKind(err) != KindNotFound {
			return err
		}
		if err := q.CreateUser(ctx, u); err != nil {
			if ErrorKind(err) == KindConflict {
				return Errorf(KindConflict, "user with email already exists")
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
	return &SatelliteUser{User: u, Profile: p}, nil
}

// userByEmail finds a satellite account by e-mail (its name); any other
// account, a hostdeck administrator's included, is not found.
func (s *Service) userByEmail(ctx context.Context, q Queries, email string) (*User, error) {
	if CheckName("email", email, MaxEmailLen) != nil {
		return nil, satUserNotFound(LogText(email))
	}
	u, err := q.GetUserByName(ctx, email)
	if ErrorKind(err) == KindNotFound || err == nil && u.Realm != RealmSatellite {
		return nil, satUserNotFound(email)
	}
	return u, err
}

// SatelliteAccount returns a user found by e-mail with its profile, the
// projects it owns and its coupons (admins only).
func (s *Service) SatelliteAccount(ctx context.Context, email string) (*SatelliteAccount, error) {
	if err := s.Check(ctx, ActionUserView, Resource{Type: ResourceUser}); err != nil {
		return nil, err
	}
	u, err := s.userByEmail(ctx, s.store, email)
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
	return &SatelliteAccount{SatelliteUser: SatelliteUser{User: u, Profile: p}, Projects: projects, Coupons: coupons}, nil
}

// UpdateSatelliteUser changes a satellite account's e-mail (and so its name),
// full name, short name, project limit or password (admins only). A new
// password ends the tokens and sessions the old one opened.
func (s *Service) UpdateSatelliteUser(ctx context.Context, email string, in SatelliteUserInput) (*SatelliteUser, error) {
	if err := s.Check(ctx, ActionUserEdit, Resource{Type: ResourceUser}); err != nil {
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
	up, err := s.passwordChange(in.Password)
	if err != nil {
		return nil, err
	}
	var out *SatelliteUser
	err = s.Change(ctx, func(q Queries) error {
		u, err := s.userByEmail(ctx, q, email)
		if err != nil {
			return err
		}
		if in.Email != nil && *in.Email != u.Name {
			if _, err := q.GetUserByName(ctx, *in.Email); err == nil {
				return Errorf(KindConflict, "user with email already exists")
			} else if ErrorKind(err) != KindNotFound {
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
		out = &SatelliteUser{User: u, Profile: p}
		return s.Audit(ctx, q, "satellite.user.update", "user", u.ID, map[string]any{
			"email": in.Email != nil, "full_name": in.FullName != nil, "short_name": in.ShortName != nil,
			"project_limit": in.ProjectLimit, "password": up.PasswordHash != nil,
		})
	})
	return out, err
}

// DeleteSatelliteUser deletes a user found by e-mail with its profile and
// coupons (admins only); KindConflict while the user owns projects.
func (s *Service) DeleteSatelliteUser(ctx context.Context, email string) error {
	if err := s.Check(ctx, ActionUserDelete, Resource{Type: ResourceUser}); err != nil {
		return err
	}
	return s.Change(ctx, func(q Queries) error {
		u, err := s.userByEmail(ctx, q, email)
		if err != nil {
			return err
		}
		if ActorFrom(ctx).UserID == u.ID {
			return Errorf(KindConflict, "you cannot delete your own account")
		}
		projects, err := q.ListProjectsByOwner(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(projects) > 0 {
			return Errorf(KindConflict, "user owns %d project(s): delete them first", len(projects))
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
