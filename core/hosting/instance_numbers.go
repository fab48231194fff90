package hosting

import (
	"context"
	"hostdeck/core"
	"strconv"
)

// This file holds instances' numeric ids and which instances a user sees. Every
// instance gets the next number when it is created (Store.CreateInstance),
// unique and never reused, so that an API that names instances by small
// integers (a hosting panel's) can do so; and a user sees the instances
// instance.view allows them, one bounded page at a time.

// ListVisibleInstances lists one page (p) of the instances the actor sees,
// deleted ones left out, oldest first unless p.Sort says otherwise, each with its
// number, and the number of them all. p.Limit must be positive: a page is bounded
// however many instances there are; a page past the end is empty. With p.Since
// the stamp of an answer the caller keeps, an unchanged list is
// List.Unchanged.
func (s *Service) ListVisibleInstances(ctx context.Context, p core.Page) (core.List[*core.NumberedInstance], error) {
	var none core.List[*core.NumberedInstance]
	if p.Limit <= 0 {
		return none, core.Invalid("limit", "a page of instances needs a positive limit")
	}
	perms, err := s.Permissions(ctx)
	if err != nil {
		return none, err
	}
	f := core.InstanceFilter{Page: p}
	if !perms.Can(core.ActionInstanceView, core.Resource{Type: core.ResourceInstance}) {
		a := core.ActorFrom(ctx)
		if a.UserID == "" {
			return core.List[*core.NumberedInstance]{Items: []*core.NumberedInstance{}}, nil
		}
		f.VisibleTo = &a.UserID // the members rule of instance.view, as one query
	}
	return s.store.ListNumberedInstances(ctx, f)
}

// InstanceByNumber returns the instance of a numeric id, if the actor sees it;
// otherwise (and for unknown or deleted ones) KindNotFound.
func (s *Service) InstanceByNumber(ctx context.Context, number int64) (*core.NumberedInstance, error) {
	notFound := core.NotFound("instance", strconv.FormatInt(number, 10))
	if number <= 0 {
		return nil, notFound
	}
	id, err := s.store.InstanceIDByNumber(ctx, number)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	in, err := s.store.GetInstance(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	ok, err := core.Allowed(ctx, s.store, core.ActionInstanceView, core.InstanceResource(in))
	if err != nil {
		return nil, err
	}
	if !ok || in.State == core.StateDeleted {
		return nil, notFound
	}
	return &core.NumberedInstance{Instance: in, Number: number}, nil
}
