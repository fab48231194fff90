package tenancy

import (
	"context"
	"time"

	"hostdeck/core"
	"hostdeck/core/billing"
	"hostdeck/core/quota"
)

// Profile is what the storage service keeps of a customer besides its user:
// the names it shows and how many projects the customer may own.
type Profile struct {
	UserID       string    `json:"user_id"`
	FullName     string    `json:"full_name"`
	ShortName    string    `json:"short_name"`
	ProjectLimit int       `json:"project_limit"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Store is what tenancy keeps and reads, in one transaction or each call on
// its own.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations tenancy's use cases run: its own
// (ProfileStore, OwnedProjectStore) and those of the records it reads or
// changes with them. Unknown ids are KindNotFound.
type Queries interface {
	core.Recorder
	ProfileStore
	OwnedProjectStore

	// Users: a customer is one.
	CreateUser(ctx context.Context, u *core.User) error // Conflict on a duplicate name
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetUserByName(ctx context.Context, name string) (*core.User, error)
	UpdateUser(ctx context.Context, id string, u core.UserUpdate) (*core.User, error)
	DeleteUser(ctx context.Context, id string) error
	// GrantRole gives a project's owner its member role.
	GrantRole(ctx context.Context, g *core.RoleGrant) error

	// Projects: a new one gets the default limits; one with usage this month
	// stays.
	GetProject(ctx context.Context, id string) (*core.Project, error)
	PutProjectLimits(ctx context.Context, l *quota.ProjectLimits) error
	GetProjectUsage(ctx context.Context, projectID, month string) (*quota.ProjectUsage, error)

	// What a project holds, which keeps it from being deleted.
	ListMachines(ctx context.Context, f core.MachineFilter) ([]*core.Instance, int, error)
	ListVolumeAssignments(ctx context.Context, f core.VolumeAssignmentFilter) ([]*core.VolumeAssignment, int, error)

	// A customer's coupons, deleted with it.
	ListCoupons(ctx context.Context, userID string) ([]*billing.Coupon, error)
	DeleteCoupon(ctx context.Context, id string) error
}

// ProfileStore keeps customers' profiles.
type ProfileStore interface {
	GetUserProfile(ctx context.Context, userID string) (*Profile, error)
	// PutUserProfile creates or replaces the profile.
	PutUserProfile(ctx context.Context, p *Profile) error
	// DeleteUserProfile removes the profile; an absent one is not an error.
	DeleteUserProfile(ctx context.Context, userID string) error
}

// OwnedProjectStore keeps the projects customers own.
type OwnedProjectStore interface {
	// CreateCustomerProject stores p as a project of type ProjectTypeCustomer.
	CreateCustomerProject(ctx context.Context, p *core.Project) error
	// ProjectType is the project_type of a project ("" for plain projects).
	ProjectType(ctx context.Context, id string) (string, error)
	// ListProjectsByOwner lists the projects a user owns, oldest first.
	ListProjectsByOwner(ctx context.Context, ownerID string) ([]*core.Project, error)
	// UpdateProjectInfo changes the name and description that are set.
	UpdateProjectInfo(ctx context.Context, id string, name, description *string) (*core.Project, error)
	// RemoveProject deletes a project with its limits, usage and role grants.
	RemoveProject(ctx context.Context, id string) error
}
