package catalogue

import (
	"context"
	"hostdeck/core"
	"strings"
)

// This file holds the catalogue: the flavors (sizes) and images instances are
// made from, and which images a user sees.

// ListFlavors lists the flavors.
func (s *Service) ListFlavors(ctx context.Context, p core.Page) ([]*core.Flavor, int, error) {
	if err := s.Check(ctx, core.ActionFlavorView, core.Resource{Type: core.ResourceFlavor}); err != nil {
		return nil, 0, err
	}
	return s.store.ListFlavors(ctx, p)
}

// GetFlavor returns one flavor.
func (s *Service) GetFlavor(ctx context.Context, id string) (*core.Flavor, error) {
	if err := s.Check(ctx, core.ActionFlavorView, core.On(core.ResourceFlavor, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("flavor", id)
	}
	return s.store.GetFlavor(ctx, id)
}

// CreateFlavor adds a flavor (flavor.create).
func (s *Service) CreateFlavor(ctx context.Context, in core.FlavorInput) (*core.Flavor, error) {
	if err := s.Check(ctx, core.ActionFlavorCreate, core.Resource{Type: core.ResourceFlavor}); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := core.CheckName("name", in.Name, core.MaxNameLen); err != nil {
		return nil, err
	}
	switch {
	case in.VCPUs < 1 || in.VCPUs > 1024:
		return nil, core.Invalid("vcpus", "vcpus must be between 1 and 1024")
	case in.RAM < 1 || in.RAM > 1<<24:
		return nil, core.Invalid("ram", "ram must be between 1 and %d MiB", 1<<24)
	case in.Disk < 0 || in.Disk > 1<<20:
		return nil, core.Invalid("disk", "disk must be between 0 and %d GiB", 1<<20)
	}
	f := &core.Flavor{ID: core.NewID(), Name: in.Name, VCPUs: in.VCPUs, RAM: in.RAM, Disk: in.Disk, CreatedAt: s.Now().UTC()}
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if err := q.CreateFlavor(ctx, f); err != nil {
			if core.ErrorKind(err) == core.KindConflict {
				return &core.Error{Kind: core.KindConflict, Field: "name", Message: "flavor " + f.Name + " already exists", Err: err}
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
func (s *Service) ListImages(ctx context.Context, p core.Page) ([]*core.Image, int, error) {
	return s.visibleImages(ctx, core.ImageFilter{Page: p})
}

// visibleImages lists the images f selects that the actor in ctx may see: all
// of them when it may see every image, else the public ones and its own (the
// list form of image.view's rule).
func (s *Service) visibleImages(ctx context.Context, f core.ImageFilter) ([]*core.Image, int, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, 0, err
	}
	if !p.Can(core.ActionImageView, core.Resource{Type: core.ResourceImage}) {
		uid := core.ActorFrom(ctx).UserID
		f.VisibleTo = &uid
	}
	return s.store.ListImages(ctx, f)
}

// GetImage returns one image the actor in ctx may see; one it may not is
// KindNotFound, as an unknown one.
func (s *Service) GetImage(ctx context.Context, id string) (*core.Image, error) {
	if !core.ValidID(id) {
		return nil, core.NotFound("image", id)
	}
	im, err := s.store.GetImage(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := core.Allowed(ctx, s.store, core.ActionImageView, core.ImageResource(im))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, core.NotFound("image", id)
	}
	return im, nil
}

// ImageZones lists the zones CreateImage takes, for the form of an actor who may
// add images (image.create).
func (s *Service) ImageZones(ctx context.Context) ([]string, error) {
	if err := s.Check(ctx, core.ActionImageCreate, core.Resource{Type: core.ResourceImage}); err != nil {
		return nil, err
	}
	return []string{core.ZonePub, core.ZoneOwn}, nil
}

// userByRef finds the user named by ref, a user id or name, of any realm (an
// account an image is made for logs in on every face); an unknown one is
// KindNotFound on the field owner.
func userByRef(ctx context.Context, q Queries, ref string) (*core.User, error) {
	var u *core.User
	var err error
	if core.ValidID(ref) {
		u, err = q.GetUser(ctx, ref)
	} else {
		u, err = q.GetUserByName(ctx, ref)
	}
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, &core.Error{Kind: core.KindNotFound, Field: "owner", Message: `user "` + core.LogText(ref) + `" not found`}
	}
	return u, err
}

// CreateImage adds an image to the catalogue (image.create). An own image's
// owner is named by user name or id; an owner named for a public image must
// exist too, and is not kept.
func (s *Service) CreateImage(ctx context.Context, in core.ImageInput) (*core.Image, error) {
	if err := s.Check(ctx, core.ActionImageCreate, core.Resource{Type: core.ResourceImage}); err != nil {
		return nil, err
	}
	in.Name, in.Ref = strings.TrimSpace(in.Name), strings.TrimSpace(in.Ref)
	if in.Zone == "" {
		in.Zone = core.ZonePub
	}
	if err := core.CheckName("name", in.Name, core.MaxNameLen); err != nil {
		return nil, err
	}
	if err := core.CheckName("ref", in.Ref, core.MaxRefLen); err != nil {
		return nil, err
	}
	if err := core.CheckLine("os", in.OSType, 64); err != nil {
		return nil, err
	}
	switch {
	case in.Zone != core.ZonePub && in.Zone != core.ZoneOwn:
		return nil, core.Invalid("zone", "zone must be %q or %q", core.ZonePub, core.ZoneOwn)
	case in.Zone == core.ZoneOwn && in.Owner == "":
		return nil, core.Invalid("owner_id", "an image of zone own needs an owner")
	}
	im := &core.Image{ID: core.NewID(), Name: in.Name, Ref: in.Ref, Zone: in.Zone, OSType: in.OSType, CreatedAt: s.Now().UTC()}
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if in.Owner != "" {
			u, err := userByRef(ctx, q, in.Owner)
			if err != nil {
				return err
			}
			if in.Zone == core.ZoneOwn {
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
