package apps

import (
	"context"
	"strconv"

	"hostdeck/core"
)

// This file holds product lines: named groups of applications, each
// application in at most one.

func lineNotFound(id string) error { return core.NotFound("product line", id) }

func lineResource(id string) core.Resource { return core.On(core.ResourceProductLine, id) }

// loadLine reads product line id; an unknown one is KindNotFound.
func loadLine(ctx context.Context, q Queries, id string) (*ProductLine, error) {
	if !core.ValidID(id) {
		return nil, lineNotFound(id)
	}
	l, err := q.GetProductLine(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, lineNotFound(id)
	}
	return l, err
}

// loadLineFor is loadLine for action: a line the actor may not see is
// KindNotFound, one it sees but may not take action on KindForbidden.
func (s *Service) loadLineFor(ctx context.Context, q Queries, p *core.Permissions, action core.Action, id string) (*ProductLine, error) {
	if !p.Can(core.ActionProductLineView, lineResource(id)) {
		return nil, lineNotFound(id)
	}
	l, err := loadLine(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if action != core.ActionProductLineView {
		if err := p.Check(action, lineResource(id)); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func lineNameTaken(err error, name string) error {
	if core.ErrorKind(err) == core.KindConflict {
		return core.Errorf(core.KindConflict, "product line %s already exists", name)
	}
	return err
}

// applyLine checks the fields in sets and sets them on l, noting each change.
func applyLine(l *ProductLine, in LineInput, ch changes) error {
	if in.Name != nil {
		if err := core.CheckName("name", *in.Name, core.MaxNameLen); err != nil {
			return err
		}
		if *in.Name != l.Name {
			ch.field("name", l.Name, *in.Name)
			l.Name = *in.Name
		}
	}
	if in.Description != nil {
		if err := core.CheckText("description", *in.Description, core.MaxTextLen); err != nil {
			return err
		}
		if *in.Description != l.Description {
			ch.field("description", l.Description, *in.Description)
			l.Description = *in.Description
		}
	}
	return nil
}

// CreateLine makes a product line (product_line.create). A name is required
// and unique (KindConflict).
func (s *Service) CreateLine(ctx context.Context, in LineInput) (*ProductLine, error) {
	if err := s.Check(ctx, core.ActionProductLineCreate, core.Resource{Type: core.ResourceProductLine}); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, core.Invalid("name", "name is not set")
	}
	l := &ProductLine{Creator: creator(ctx)}
	ch := changes{}
	if err := applyLine(l, in, ch); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(q Queries) error {
		if err := q.CreateProductLine(ctx, l); err != nil {
			return lineNameTaken(err, l.Name)
		}
		return s.Audit(ctx, q, "product_line.create", string(core.ResourceProductLine), l.ID,
			map[string]any{"name": l.Name, "number": l.Number, "changes": ch})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// GetLine returns a product line the actor sees (product_line.view); others
// are KindNotFound.
func (s *Service) GetLine(ctx context.Context, id string) (*ProductLine, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	return s.loadLineFor(ctx, s.store, p, core.ActionProductLineView, id)
}

// GetLineByNumber is GetLine by the line's number.
func (s *Service) GetLineByNumber(ctx context.Context, n int64) (*ProductLine, error) {
	id, err := core.IDOfNumber(ctx, s.store, core.NumberProductLine, "product line", n)
	if err != nil {
		return nil, err
	}
	l, err := s.GetLine(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, core.NotFound("product line", strconv.FormatInt(n, 10))
	}
	return l, err
}

// UpdateLine changes a product line (product_line.edit).
func (s *Service) UpdateLine(ctx context.Context, id string, in LineInput) (*ProductLine, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	var out *ProductLine
	err = s.change(ctx, func(q Queries) error {
		l, err := s.loadLineFor(ctx, q, p, core.ActionProductLineEdit, id)
		if err != nil {
			return err
		}
		before := l.Name
		ch := changes{}
		if err := applyLine(l, in, ch); err != nil {
			return err
		}
		out = l
		if len(ch) == 0 {
			return nil
		}
		if err := q.UpdateProductLine(ctx, l); err != nil {
			return lineNameTaken(err, l.Name)
		}
		return s.Audit(ctx, q, "product_line.edit", string(core.ResourceProductLine), l.ID,
			map[string]any{"name": before, "changes": ch})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteLine removes a product line (product_line.delete); one that still
// has applications is KindConflict naming them.
func (s *Service) DeleteLine(ctx context.Context, id string) error {
	p, err := s.Permissions(ctx)
	if err != nil {
		return err
	}
	return s.change(ctx, func(q Queries) error {
		l, err := s.loadLineFor(ctx, q, p, core.ActionProductLineDelete, id)
		if err != nil {
			return err
		}
		in, err := q.ListApps(ctx, AppFilter{ProductLineID: &l.ID, Page: core.Page{Limit: namesListed, Sort: []string{"full_name"}}})
		if err != nil {
			return err
		}
		if in.Total > 0 {
			return core.Errorf(core.KindConflict, "product line %s still has applications %s", l.Name, fullNames(in))
		}
		if err := q.DeleteProductLine(ctx, l.ID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "product_line.delete", string(core.ResourceProductLine), l.ID,
			map[string]any{"name": l.Name, "number": l.Number})
	})
}

// ListLines lists one page of the product lines f selects
// (product_line.view on every line); f.Limit must be positive.
func (s *Service) ListLines(ctx context.Context, f LineFilter) (core.List[*ProductLine], error) {
	if err := s.Check(ctx, core.ActionProductLineView, core.Resource{Type: core.ResourceProductLine}); err != nil {
		return core.List[*ProductLine]{}, err
	}
	if f.Limit <= 0 {
		return core.List[*ProductLine]{}, core.Invalid("limit", "a page of product lines needs a positive limit")
	}
	if err := core.CheckFilter(core.FilterValue("name", f.Name)); err != nil {
		return core.List[*ProductLine]{}, err
	}
	return s.store.ListProductLines(ctx, f)
}

// AddLineApps puts the applications of appIDs in the line (product_line.edit
// on it, application.edit on each), taking them from any other.
func (s *Service) AddLineApps(ctx context.Context, lineID string, appIDs []string) error {
	return s.editLineApps(ctx, lineID, appIDs, true)
}

// RemoveLineApps takes those of appIDs that are in the line out of it: they
// are then in none.
func (s *Service) RemoveLineApps(ctx context.Context, lineID string, appIDs []string) error {
	return s.editLineApps(ctx, lineID, appIDs, false)
}

func (s *Service) editLineApps(ctx context.Context, lineID string, appIDs []string, add bool) error {
	p, err := s.Permissions(ctx)
	if err != nil {
		return err
	}
	return s.change(ctx, func(q Queries) error {
		l, err := s.loadLineFor(ctx, q, p, core.ActionProductLineEdit, lineID)
		if err != nil {
			return err
		}
		apps, err := s.loadApps(ctx, q, p, core.ActionApplicationEdit, "applications", appIDs)
		if err != nil {
			return err
		}
		var ids, names []string
		for _, a := range apps {
			if (a.ProductLineID == l.ID) != add {
				ids, names = append(ids, a.ID), append(names, a.FullName)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		to := ""
		ch := changes{}
		if add {
			to = l.ID
			ch.set("applications", names, nil)
		} else {
			ch.set("applications", nil, names)
		}
		if err := q.SetAppsProductLine(ctx, ids, to); err != nil {
			return err
		}
		return s.Audit(ctx, q, "product_line.edit", string(core.ResourceProductLine), l.ID,
			map[string]any{"name": l.Name, "changes": ch})
	})
}
