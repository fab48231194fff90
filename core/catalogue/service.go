// Package catalogue owns what instances boot from and how big they are: the
// images (public ones, and a user's own) and the flavors; which images an actor
// may use is the access policy's rule.
package catalogue

import (
	"context"

	"hostdeck/core"
)

// Service holds the catalogue's use cases. It embeds core's Service for what
// every capability shares (the clock, the audit trail, the access policy)
// while core is split by capability.
type Service struct {
	*core.Service
	store Store
}

// New returns the Service over c and st.
func New(c *core.Service, st Store) *Service { return &Service{Service: c, store: st} }

// Store is what the catalogue keeps and reads.
type Store interface {
	Queries
	core.Transactor
}

// Queries are the store operations of the catalogue: its images and flavors,
// the users an image may belong to, and what the policy reads.
type Queries interface {
	CreateFlavor(ctx context.Context, f *core.Flavor) error // Conflict on a duplicate name
	GetFlavor(ctx context.Context, id string) (*core.Flavor, error)
	ListFlavors(ctx context.Context, p core.Page) ([]*core.Flavor, int, error)
	CreateImage(ctx context.Context, im *core.Image) error
	GetImage(ctx context.Context, id string) (*core.Image, error)
	ListImages(ctx context.Context, f core.ImageFilter) ([]*core.Image, int, error)
	GetUser(ctx context.Context, id string) (*core.User, error)
	GetUserByName(ctx context.Context, name string) (*core.User, error)
	core.AccessStore // what the policy reads
	core.Recorder    // AddAudit, CreateTask
}
