package core

import (
	"context"
	"strings"
	"time"
)

// This file holds the catalogue: the flavors (sizes) and images instances are
// made from, and which images a user sees.

// Flavor is the size of an instance: what a pool's flavor_id names.
type Flavor struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	VCPUs     int       `json:"vcpus"`
	RAM       int       `json:"ram"`  // MiB
	Disk      int       `json:"disk"` // GiB
	CreatedAt time.Time `json:"created_at"`
}

// FlavorInput is what an admin gives to create a flavor.
type FlavorInput struct {
	Name  string
	VCPUs int
	RAM   int // MiB
	Disk  int // GiB
}

// Image zones: pub images are seen by everyone, own images by their owner only.
const (
	ZonePub = "pub"
	ZoneOwn = "own"
)

// ImageFilter selects images. VisibleTo, when set, keeps the pub images and the
// own images of that owner.
type ImageFilter struct {
	VisibleTo *string
	Zone      *string
	Page
}

// ImageInput is what an admin gives to add an image to the catalogue.
type ImageInput struct {
	Name   string
	Ref    string
	Zone   string // ZonePub (default) or ZoneOwn
	Owner  string // the owner's user name or id; required for ZoneOwn
	OSType string
}

// CatalogueStore keeps flavors and images.
type CatalogueStore interface {
	CreateFlavor(ctx context.Context, f *Flavor) error // Conflict on a duplicate name
	GetFlavor(ctx context.Context, id string) (*Flavor, error)
	ListFlavors(ctx context.Context, p Page) ([]*Flavor, int, error)
}

// ListFlavors lists the flavors.
func (s *Service) ListFlavors(ctx context.Context, p Page) ([]*Flavor, int, error) {
	if err := s.Check(ctx, ActionFlavorView, Resource{Type: ResourceFlavor}); err != nil {
		return nil, 0, err
	}
	return s.store.ListFlavors(ctx, p)
}

// GetFlavor returns one flavor.
func (s *Service) GetFlavor(ctx context.Context, id string) (*Flavor, error) {
	if err := s.Check(ctx, ActionFlavorView, On(ResourceFlavor, id)); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, NotFound("flavor", id)
	}
	return s.store.GetFlavor(ctx, id)
}

// CreateFlavor adds a flavor (flavor.create).
func (s *Service) CreateFlavor(ctx context.Context, in FlavorInput) (*Flavor, error) {
	if err := s.Check(ctx, ActionFlavorCreate, Resource{Type: ResourceFlavor}); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := CheckName("name", in.Name, MaxNameLen); err != nil {
		return nil, err
	}
	switch {
	case in.VCPUs < 1 || in.VCPUs > 1024:
		return nil, Invalid("vcpus", "vcpus must be between 1 and 1024")
	case in.RAM < 1 || in.RAM > 1<<24:
		return nil, Invalid("ram", "ram must be between 1 and %d MiB", 1<<24)
	case in.Disk < 0 || in.Disk > 1<<20:
		return nil, Invalid("disk", "disk must be between 0 and %d GiB", 1<<20)
	}
	f := &Flavor{ID: NewID(), Name: in.Name, VCPUs: in.VCPUs, RAM: in.RAM, Disk: in.Disk, CreatedAt: s.Now().UTC()}
	err := s.store.InTx(ctx, func(q Queries) error {
		if err := q.CreateFlavor(ctx, f); err != nil {
			if ErrorKind(err) == KindConflict {
				return &Error{Kind: KindConflict, Field: "name", Message: "flavor " + f.Name + " already exists", Err: err}
			}
			return err
		}
		return s.Audit(ctx, q, "flavor.create", "flavor", f.ID, f)
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ListImages lists the images the actor in ctx may use (image.view).
func (s *Service) ListImages(ctx context.Context, p Page) ([]*Image, int, error) {
	return s.visibleImages(ctx, ImageFilter{Page: p})
}

// visibleImages lists the images f selects that the actor in ctx may see: all
// of them when it may see every image, else the public ones and its own (the
// list form of image.view's rule).
func (s *Service) visibleImages(ctx context.Context, f ImageFilter) ([]*Image, int, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, 0, err
	}
	if !p.Can(ActionImageView, Resource{Type: ResourceImage}) {
		uid := ActorFrom(ctx).UserID
		f.VisibleTo = &uid
	}
	return s.store.ListImages(ctx, f)
}

// GetImage returns one image the actor in ctx may see; one it may not is
// KindNotFound, as an unknown one.
func (s *Service) GetImage(ctx context.Context, id string) (*Image, error) {
	if !ValidID(id) {
		return nil, NotFound("image", id)
	}
	im, err := s.store.GetImage(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := Allowed(ctx, s.store, ActionImageView, ImageResource(im))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, NotFound("image", id)
	}
	return im, nil
}

// ImageZones lists the zones CreateImage takes, for the form of an actor who may
// add images (image.create).
func (s *Service) ImageZones(ctx context.Context) ([]string, error) {
	if err := s.Check(ctx, ActionImageCreate, Resource{Type: ResourceImage}); err != nil {
		return nil, err
	}
	return []string{ZonePub, ZoneOwn}, nil
}

// userByRef finds the user named by ref, a user id or name, of any realm (an
// account an image is made for logs in on every face); an unknown one is
// KindNotFound on the field owner.
func userByRef(ctx context.Context, q Queries, ref string) (*User, error) {
	var u *User
	var err error
	if ValidID(ref) {
		u, err = q.GetUser(ctx, ref)
	} else {
		u, err = q.GetUserByName(ctx, ref)
	}
	if ErrorKind(err) == KindNotFound {
		return nil, &Error{Kind: KindNotFound, Field: "owner", Message: `user "` + LogText(ref) + `" not found`}
	}
	return u, err
}

// CreateImage adds an image to the catalogue (image.create). An own image's
// owner is named by user name or id; an owner named for a public image must
// exist too, and is not kept.
func (s *Service) CreateImage(ctx context.Context, in ImageInput) (*Image, error) {
	if err := s.Check(ctx, ActionImageCreate, Resource{Type: ResourceImage}); err != nil {
		return nil, err
	}
	in.Name, in.Ref = strings.TrimSpace(in.Name), strings.TrimSpace(in.Ref)
	if in.Zone == "" {
		in.Zone = ZonePub
	}
	if err := CheckName("name", in.Name, MaxNameLen); err != nil {
		return nil, err
	}
	if err := CheckName("ref", in.Ref, MaxRefLen); err != nil {
		return nil, err
	}
	if err := CheckLine("os", in.OSType, 64); err != nil {
		return nil, err
	}
	switch {
	case in.Zone != ZonePub && in.Zone != ZoneOwn:
		return nil, Invalid("zone", "zone must be %q or %q", ZonePub, ZoneOwn)
	case in.Zone == ZoneOwn && in.Owner == "":
		return nil, Invalid("owner_id", "an image of zone own needs an owner")
	}
	im := &Image{ID: NewID(), Name: in.Name, Ref: in.Ref, Zone: in.Zone, OSType: in.OSType, CreatedAt: s.Now().UTC()}
	err := s.store.InTx(ctx, func(q Queries) error {
		if in.Owner != "" {
			u, err := userByRef(ctx, q, in.Owner)
			if err != nil {
				return err
			}
			if in.Zone == ZoneOwn {
				im.OwnerID = u.ID
			}
		}
		if err := q.CreateImage(ctx, im); err != nil {
			return err
		}
		return s.Audit(ctx, q, "image.create", "image", im.ID, im)
	})
	if err != nil {
		return nil, err
	}
	return im, nil
}
