package core

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// This file holds the storage satellite's account data (spec 003): users'
// profiles, coupons and satellite projects. The limits they set on projects, and
// the monthly usage that makes those limits mean something, are in limits.go.
//
// A satellite user is a core User (name = e-mail, role member); what only the
// satellite shows (full name, short name, project limit) is a UserProfile. A
// satellite project is a core Project of type ProjectTypeSatellite owned by the
// user. Limits and usage apply to any project, TRS pools included: the
// instances and volumes "of a project" are the instances whose ProjectID it is.

// ProjectTypeSatellite marks a project created through the satellite face.
const ProjectTypeSatellite = "satellite"

// DefaultProjectLimit is how many projects a user may own when nothing else
// was set.
const DefaultProjectLimit = 10

// Default limits of a project created through the satellite face. Projects
// created elsewhere have no limits until some are set.
const (
	DefaultUsageLimit     = 50_000_000_000 // 50 GB stored
	DefaultBandwidthLimit = 50_000_000_000 // 50 GB egress a month
	DefaultBucketsLimit   = 100
)

// UserProfile is the satellite's account data of a user.
type UserProfile struct {
	UserID       string    `json:"user_id"`
	FullName     string    `json:"full_name"`
	ShortName    string    `json:"short_name"`
	ProjectLimit int       `json:"project_limit"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// CouponType is what a coupon is for; the document knows only promotional ones (0).
type CouponType int

// CouponStatus is where a coupon is in its life, as the document numbers it.
type CouponStatus int

const (
	CouponTypePromotional CouponType = 0

	CouponActive  CouponStatus = 0
	CouponUsed    CouponStatus = 1
	CouponExpired CouponStatus = 2
)

// Coupon is a credit given to a user for Duration billing cycles (calendar
// months from its creation). Amount is in cents. Status is stored as active or
// used; expired is computed (see Coupon.StatusAt).
type Coupon struct {
	ID          string       `json:"id"`
	UserID      string       `json:"userId"`
	Duration    int          `json:"duration"`
	Amount      int64        `json:"amount"`
	Description string       `json:"description"`
	Type        CouponType   `json:"type"`
	Status      CouponStatus `json:"status"`
	CreatedAt   time.Time    `json:"created"`
}

// ExpiresAt is the end of the coupon's last billing cycle: Duration calendar
// months after its creation.
func (c *Coupon) ExpiresAt() time.Time { return c.CreatedAt.AddDate(0, c.Duration, 0) }

// StatusAt is the coupon's status at now: a stored status other than active
// stands; an active coupon whose billing cycles have passed is expired.
func (c *Coupon) StatusAt(now time.Time) CouponStatus {
	if c.Status == CouponActive && !now.Before(c.ExpiresAt()) {
		return CouponExpired
	}
	return c.Status
}

// SatelliteStore keeps the satellite's records. Unknown ids are KindNotFound.
type SatelliteStore interface {
	GetUserProfile(ctx context.Context, userID string) (*UserProfile, error)
	// PutUserProfile creates or replaces the profile.
	PutUserProfile(ctx context.Context, p *UserProfile) error
	// DeleteUserProfile removes the profile; an absent one is not an error.
	DeleteUserProfile(ctx context.Context, userID string) error

	// CreateSatelliteProject stores p as a project of type ProjectTypeSatellite.
	CreateSatelliteProject(ctx context.Context, p *Project) error
	// ProjectType is the project_type of a project ("" for plain projects).
	ProjectType(ctx context.Context, id string) (string, error)
	// ListProjectsByOwner lists the projects a user owns, oldest first.
	ListProjectsByOwner(ctx context.Context, ownerID string) ([]*Project, error)
	// UpdateProjectInfo changes the name and description that are set.
	UpdateProjectInfo(ctx context.Context, id string, name, description *string) (*Project, error)
	// RemoveProject deletes a project with its limits, usage and role grants.
	RemoveProject(ctx context.Context, id string) error

	CreateCoupon(ctx context.Context, c *Coupon) error
	GetCoupon(ctx context.Context, id string) (*Coupon, error)
	// ListCoupons lists a user's coupons, oldest first.
	ListCoupons(ctx context.Context, userID string) ([]*Coupon, error)
	DeleteCoupon(ctx context.Context, id string) error

	GetProjectLimits(ctx context.Context, projectID string) (*ProjectLimits, error)
	// PutProjectLimits creates or replaces the limits.
	PutProjectLimits(ctx context.Context, l *ProjectLimits) error

	// PutProjectUsage creates or replaces the usage of (project, month).
	PutProjectUsage(ctx context.Context, u *ProjectUsage) error
	GetProjectUsage(ctx context.Context, projectID, month string) (*ProjectUsage, error)
	// ListProjectUsage lists usage rows; an empty projectID or month does not filter.
	ListProjectUsage(ctx context.Context, projectID, month string) ([]*ProjectUsage, error)

	// EgressCounters are the runtime egress counters last read, per instance id.
	EgressCounters(ctx context.Context) (map[string]int64, error)
	// PutEgressCounter records the counter last read of an instance.
	PutEgressCounter(ctx context.Context, instanceID string, txBytes int64) error
}

// --- users ---

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

// satelliteUser finds a satellite account by id, as userByEmail does.
func satelliteUser(ctx context.Context, q Queries, id string) (*User, error) {
	u, err := q.GetUser(ctx, id)
	if ErrorKind(err) == KindNotFound || err == nil && u.Realm != RealmSatellite {
		return nil, Errorf(KindNotFound, "user %s does not exist", id)
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

// --- coupons ---

// CouponInput is what creates a coupon.
type CouponInput struct {
	UserID      string
	Duration    int
	Amount      int64
	Description string
}

func couponNotFound(id string) error {
	return Errorf(KindNotFound, "coupon %s does not exist", id)
}

// CreateCoupon gives a user a promotional coupon (admins only). Each missing
// field is its own KindInvalid; an unknown user is KindNotFound.
func (s *Service) CreateCoupon(ctx context.Context, in CouponInput) (*Coupon, error) {
	if err := s.Check(ctx, ActionCouponCreate, Resource{Type: ResourceCoupon}); err != nil {
		return nil, err
	}
	switch {
	case in.UserID == "":
		return nil, Invalid("userId", "user ID is not set")
	case in.Duration == 0:
		return nil, Invalid("duration", "duration is not set")
	case in.Amount == 0:
		return nil, Invalid("amount", "amount is not set")
	case strings.TrimSpace(in.Description) == "":
		return nil, Invalid("description", "description is not set")
	case in.Duration < 0:
		return nil, Invalid("duration", "duration must be positive")
	case in.Amount < 0:
		return nil, Invalid("amount", "amount must be positive")
	case !ValidID(in.UserID):
		return nil, Invalid("userId", "user ID is not a valid UUID")
	}
	if err := CheckText("description", in.Description, MaxTextLen); err != nil {
		return nil, err
	}
	c := &Coupon{ID: NewID(), UserID: in.UserID, Duration: in.Duration, Amount: in.Amount, Description: in.Description,
		Type: CouponTypePromotional, Status: CouponActive, CreatedAt: s.Now().UTC()}
	err := s.Change(ctx, func(q Queries) error {
		if _, err := satelliteUser(ctx, q, in.UserID); err != nil {
			return err
		}
		if err := q.CreateCoupon(ctx, c); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.coupon.create", "coupon", c.ID, map[string]any{"user_id": c.UserID, "duration": c.Duration, "amount": c.Amount})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetCoupon returns a coupon with its status now (admins only).
func (s *Service) GetCoupon(ctx context.Context, id string) (*Coupon, error) {
	if err := s.Check(ctx, ActionCouponView, On(ResourceCoupon, id)); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, couponNotFound(id)
	}
	c, err := s.store.GetCoupon(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, couponNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	c.Status = c.StatusAt(s.Now())
	return c, nil
}

// DeleteCoupon deletes a coupon (admins only).
func (s *Service) DeleteCoupon(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionCouponDelete, On(ResourceCoupon, id)); err != nil {
		return err
	}
	if !ValidID(id) {
		return couponNotFound(id)
	}
	return s.Change(ctx, func(q Queries) error {
		if err := q.DeleteCoupon(ctx, id); err != nil {
			if ErrorKind(err) == KindNotFound {
				return couponNotFound(id)
			}
			return err
		}
		return s.Audit(ctx, q, "satellite.coupon.delete", "coupon", id, nil)
	})
}

// --- projects ---

func satProjectNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonProjectNotFound, "project "+id+" does not exist", "project_name", id)
}

// CreateSatelliteProject creates a project owned by a user (admins only), with
// the default limits, and grants the owner the member role on it (so the owner
// can get tokens scoped to it). Past the owner's project limit is KindConflict.
func (s *Service) CreateSatelliteProject(ctx context.Context, ownerID, name string) (*Project, error) {
	if err := s.Check(ctx, ActionProjectCreate, Resource{Type: ResourceProject}); err != nil {
		return nil, err
	}
	switch {
	case ownerID == "":
		return nil, Invalid("ownerId", "OwnerID is not set")
	case strings.TrimSpace(name) == "":
		return nil, Invalid("projectName", "ProjectName is not set")
	case !ValidID(ownerID):
		return nil, Invalid("ownerId", "OwnerID is not a valid UUID")
	}
	if err := CheckName("projectName", name, MaxNameLen); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	p := &Project{ID: NewID(), Name: name, OwnerID: ownerID, CreatedAt: now, UpdatedAt: now}
	err := s.Change(ctx, func(q Queries) error {
		u, err := satelliteUser(ctx, q, ownerID)
		if err != nil {
			return err
		}
		prof, err := s.profileOf(ctx, q, u)
		if err != nil {
			return err
		}
		owned, err := q.ListProjectsByOwner(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(owned) >= prof.ProjectLimit {
			return Reasoned(KindConflict, ReasonQuotaExceeded,
				fmt.Sprintf("user %s reached the project limit (%d)", u.Name, prof.ProjectLimit), "user_name", u.Name)
		}
		if err := q.CreateSatelliteProject(ctx, p); err != nil {
			return err
		}
		if err := q.PutProjectLimits(ctx, &ProjectLimits{ProjectID: p.ID, Usage: DefaultUsageLimit,
			Bandwidth: DefaultBandwidthLimit, Buckets: DefaultBucketsLimit, UpdatedAt: now}); err != nil {
			return err
		}
		if err := q.GrantRole(ctx, &RoleGrant{ProjectID: p.ID, UserID: u.ID, Role: RoleMember, CreatedAt: now}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.create", "project", p.ID, map[string]string{"name": name, "owner_id": ownerID})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// getProject reads a project; bad or unknown ids are KindNotFound.
func getProject(ctx context.Context, q Queries, id string) (*Project, error) {
	if !ValidID(id) {
		return nil, satProjectNotFound(id)
	}
	p, err := q.GetProject(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, satProjectNotFound(id)
	}
	return p, err
}

// SatelliteProject returns a project (admins only).
func (s *Service) SatelliteProject(ctx context.Context, id string) (*Project, error) {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	return getProject(ctx, s.store, id)
}

// UpdateSatelliteProject changes a project's name or description (admins only).
func (s *Service) UpdateSatelliteProject(ctx context.Context, id string, name, description *string) (*Project, error) {
	if err := s.Check(ctx, ActionProjectEdit, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	if name != nil && strings.TrimSpace(*name) == "" {
		return nil, Invalid("projectName", "ProjectName is not set")
	}
	if err := CheckOptional(name, func(v string) error { return CheckName("projectName", v, MaxNameLen) }); err != nil {
		return nil, err
	}
	if err := CheckOptional(description, func(v string) error { return CheckText("description", v, MaxTextLen) }); err != nil {
		return nil, err
	}
	if name == nil && description == nil {
		return nil, Invalid("projectName", "ProjectName or Description must be set")
	}
	var out *Project
	err := s.Change(ctx, func(q Queries) error {
		if _, err := getProject(ctx, q, id); err != nil {
			return err
		}
		var err error
		if out, err = q.UpdateProjectInfo(ctx, id, name, description); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.update", "project", id, map[string]any{"name": name != nil, "description": description != nil})
	})
	return out, err
}

// projectVolumes counts the volumes of an instance: those its spec declares, or
// one (its root disk) when it declares none.
func projectVolumes(in *Instance) int {
	if n := len(in.Spec.Volumes); n > 0 {
		return n
	}
	return 1
}

// outstandingUsage says why a project still has usage this month ("" when it
// has none).
func (s *Service) outstandingUsage(ctx context.Context, q Queries, projectID string) (string, error) {
	u, err := q.GetProjectUsage(ctx, projectID, UsageMonth(s.Now()))
	if ErrorKind(err) == KindNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if u.StoredBytes > 0 || u.EgressBytes > 0 {
		return "usage for current month exists", nil
	}
	return "", nil
}

// DeleteSatelliteProject deletes a satellite project (admins only):
// KindConflict while it has instances, volumes or usage this month, and for
// projects of another type (their own face deletes them).
func (s *Service) DeleteSatelliteProject(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionProjectDelete, On(ResourceProject, id)); err != nil {
		return err
	}
	return s.Change(ctx, func(q Queries) error {
		if _, err := getProject(ctx, q, id); err != nil {
			return err
		}
		typ, err := q.ProjectType(ctx, id)
		if err != nil {
			return err
		}
		if typ != ProjectTypeSatellite {
			return Errorf(KindConflict, "project is a %s project: delete it through its own API", typ)
		}
		insts, _, err := q.ListMachines(ctx, MachineFilter{ProjectID: projectCond(id)})
		if err != nil {
			return err
		}
		if len(insts) > 0 {
			return Errorf(KindConflict, "project has %d instances", len(insts))
		}
		vols, _, err := q.ListVolumeAssignments(ctx, VolumeAssignmentFilter{ProjectID: &Cond{Op: OpEq, Values: []string{id}}})
		if err != nil {
			return err
		}
		if len(vols) > 0 {
			return Errorf(KindConflict, "project has %d volumes", len(vols))
		}
		reason, err := s.outstandingUsage(ctx, q, id)
		if err != nil {
			return err
		}
		if reason != "" {
			return Errorf(KindConflict, "%s", reason)
		}
		if err := q.RemoveProject(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "satellite.project.delete", "project", id, nil)
	})
}

// ProjectUsageCheck returns "" when the project has no usage this month, or
// KindConflict with the reason (admins only).
func (s *Service) ProjectUsageCheck(ctx context.Context, id string) error {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return err
	}
	if _, err := getProject(ctx, s.store, id); err != nil {
		return err
	}
	reason, err := s.outstandingUsage(ctx, s.store, id)
	if err != nil {
		return err
	}
	if reason != "" {
		return Errorf(KindConflict, "%s", reason)
	}
	return nil
}

// ProjectUsageHistory lists a project's monthly usage (admins only).
func (s *Service) ProjectUsageHistory(ctx context.Context, id string) ([]*ProjectUsage, error) {
	if err := s.Check(ctx, ActionProjectView, On(ResourceProject, id)); err != nil {
		return nil, err
	}
	if _, err := getProject(ctx, s.store, id); err != nil {
		return nil, err
	}
	return s.store.ListProjectUsage(ctx, id, "")
}
