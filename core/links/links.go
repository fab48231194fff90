package links

import (
	"context"
	"net/url"
	"strings"

	"hostdeck/core"
)

// Service holds the use cases of links. It embeds core's Service for the
// shared helpers (access checks, audit, clock).
type Service struct {
	*core.Service
	store Store
}

// New returns links' Service over c, keeping its records in st.
func New(c *core.Service, st Store) *Service { return &Service{Service: c, store: st} }

// MaxURLLen bounds a link's URL and image.
const MaxURLLen = 2048

func linkNotFound(id string) error {
	return core.Errorf(core.KindNotFound, "link %s does not exist", id)
}

func checkName(v string) error { return core.CheckName("name", v, core.MaxNameLen) }

// checkURL accepts an absolute http or https URL with a host.
func checkURL(v string) error {
	if err := core.CheckName("url", v, MaxURLLen); err != nil {
		return err
	}
	if !webURL(v) {
		return core.Invalid("url", "url must be an http or https URL")
	}
	return nil
}

// checkImage accepts a path on this site ("/…", not "//…", which a browser
// reads as another host) or an http or https URL.
func checkImage(v string) error {
	if err := core.CheckName("image", v, MaxURLLen); err != nil {
		return err
	}
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") && !strings.Contains(v, `\`) {
		if _, err := url.Parse(v); err == nil {
			return nil
		}
	}
	if !webURL(v) {
		return core.Invalid("image", `image must be a path beginning with "/" or an http or https URL`)
	}
	return nil
}

func webURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == ""
}

// check applies the rules to the fields of in that are set; create asks for
// every field.
func (in LinkInput) check(create bool) error {
	if create {
		for _, f := range []struct {
			name string
			v    *string
		}{{"name", in.Name}, {"image", in.Image}, {"url", in.URL}} {
			if f.v == nil {
				return core.Invalid(f.name, "%s is not set", f.name)
			}
		}
	}
	for _, err := range []error{core.CheckOptional(in.Name, checkName), core.CheckOptional(in.Image, checkImage), core.CheckOptional(in.URL, checkURL)} {
		if err != nil {
			return err
		}
	}
	return nil
}

// nameTaken is the conflict of a name another link has.
func nameTaken(err error, name string) error {
	if core.ErrorKind(err) == core.KindConflict {
		return core.Errorf(core.KindConflict, "a link named %q exists", name)
	}
	return err
}

// Create makes a link of in, whose every field is required; a name another
// link has is KindConflict. Takes link.manage.
func (s *Service) Create(ctx context.Context, in LinkInput) (*Link, error) {
	if err := s.Check(ctx, core.ActionLinkManage, core.Resource{Type: core.ResourceLink}); err != nil {
		return nil, err
	}
	if err := in.check(true); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	l := &Link{ID: core.NewID(), Name: *in.Name, Image: *in.Image, URL: *in.URL, Creator: core.ActorFrom(ctx).Name, CreatedAt: now, UpdatedAt: now}
	err := core.Change(ctx, s.Service, s.store, func(q Queries) error {
		if err := q.CreateLink(ctx, l); err != nil {
			return nameTaken(err, l.Name)
		}
		return s.Audit(ctx, q, "link.create", string(core.ResourceLink), l.ID,
			map[string]any{"number": l.Number, "name": l.Name, "image": l.Image, "url": l.URL})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Get returns a link. Takes link.view on it.
func (s *Service) Get(ctx context.Context, id string) (*Link, error) {
	if err := s.Check(ctx, core.ActionLinkView, core.On(core.ResourceLink, id)); err != nil {
		return nil, err
	}
	return get(ctx, s.store, id)
}

// GetByNumber returns the link numbered n. Takes link.view on it; to one who
// may see no link, a number that names none is as forbidden as one that does.
func (s *Service) GetByNumber(ctx context.Context, n int64) (*Link, error) {
	id, err := core.IDOfNumber(ctx, s.store, core.NumberLink, "link", n)
	if err != nil {
		if cerr := s.Check(ctx, core.ActionLinkView, core.Resource{Type: core.ResourceLink}); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	return s.Get(ctx, id)
}

func get(ctx context.Context, q LinkStore, id string) (*Link, error) {
	if !core.ValidID(id) {
		return nil, linkNotFound(id)
	}
	l, err := q.GetLink(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, linkNotFound(id)
	}
	return l, err
}

// List lists a page of the links f selects. Takes link.view on every link.
func (s *Service) List(ctx context.Context, f LinkFilter) (core.List[*Link], error) {
	if err := s.Check(ctx, core.ActionLinkView, core.Resource{Type: core.ResourceLink}); err != nil {
		return core.List[*Link]{}, err
	}
	if err := core.CheckFilter(core.FilterValue("name", f.Name)); err != nil {
		return core.List[*Link]{}, err
	}
	return s.store.ListLinks(ctx, f)
}

// Update changes the fields of in that are set; changing nothing writes
// nothing. The audit event holds each changed field before and after. Takes
// link.manage on it.
func (s *Service) Update(ctx context.Context, id string, in LinkInput) (*Link, error) {
	if err := s.Check(ctx, core.ActionLinkManage, core.On(core.ResourceLink, id)); err != nil {
		return nil, err
	}
	if err := in.check(false); err != nil {
		return nil, err
	}
	var l *Link
	err := core.Change(ctx, s.Service, s.store, func(q Queries) error {
		before, err := get(ctx, q, id)
		if err != nil {
			return err
		}
		var u LinkInput
		was, now := map[string]string{}, map[string]string{}
		for _, f := range []struct {
			name, old string
			new       *string
			field     **string
		}{
			{"name", before.Name, in.Name, &u.Name},
			{"image", before.Image, in.Image, &u.Image},
			{"url", before.URL, in.URL, &u.URL},
		} {
			if f.new != nil && *f.new != f.old {
				*f.field = f.new
				was[f.name], now[f.name] = f.old, *f.new
			}
		}
		if len(now) == 0 {
			l = before
			return nil
		}
		if l, err = q.UpdateLink(ctx, id, u); err != nil {
			if u.Name != nil {
				return nameTaken(err, *u.Name)
			}
			return err
		}
		return s.Audit(ctx, q, "link.edit", string(core.ResourceLink), id, map[string]any{"before": was, "after": now})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Delete removes a link. Takes link.manage on it.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.Check(ctx, core.ActionLinkManage, core.On(core.ResourceLink, id)); err != nil {
		return err
	}
	return core.Change(ctx, s.Service, s.store, func(q Queries) error {
		l, err := get(ctx, q, id)
		if err != nil {
			return err
		}
		if err := q.DeleteLink(ctx, id); err != nil {
			return err
		}
		return s.Audit(ctx, q, "link.delete", string(core.ResourceLink), id, map[string]any{"number": l.Number, "name": l.Name})
	})
}
