package ops

import (
	"context"
	"net/http"
	"slices"

	"hostdeck/core"
	"hostdeck/core/apps"
)

// Product lines (rows 32–35; creating, changing and deleting them are
// extensions).

// lineBody is the Production object. Its available_actions are the data
// type's view, delete and reboot (described as "edit"), and edit.
type lineBody struct {
	ID               int64           `json:"id"`
	Name             string          `json:"name"`
	Description      string          `json:"description"`
	Creator          string          `json:"creator"`
	CreatedTime      string          `json:"created_time"`
	AvailableActions map[string]bool `json:"available_actions"`
}

func (f *face) linesOf(ctx context.Context, ls []*apps.ProductLine) ([]lineBody, error) {
	rs := make([]core.Resource, len(ls))
	for i, l := range ls {
		rs[i] = core.On(core.ResourceProductLine, l.ID)
	}
	held, err := f.Core.ActionsOnEach(ctx, rs)
	if err != nil {
		return nil, err
	}
	out := make([]lineBody, len(ls))
	for i, l := range ls {
		edit := slices.Contains(held[i], core.ActionProductLineEdit)
		out[i] = lineBody{ID: l.Number, Name: l.Name, Description: l.Description, Creator: l.Creator, CreatedTime: when(l.CreatedAt),
			AvailableActions: map[string]bool{
				"view":   slices.Contains(held[i], core.ActionProductLineView),
				"delete": slices.Contains(held[i], core.ActionProductLineDelete),
				"reboot": edit, "edit": edit,
			}}
	}
	return out, nil
}

func (f *face) line(r *http.Request) (*apps.ProductLine, error) {
	n, err := pathID(r, "production")
	if err != nil {
		return nil, err
	}
	return f.Apps.GetLineByNumber(r.Context(), n)
}

func (f *face) writeLine(w http.ResponseWriter, r *http.Request, status int, l *apps.ProductLine) error {
	out, err := f.linesOf(r.Context(), []*apps.ProductLine{l})
	if err != nil {
		return err
	}
	writeJSON(w, status, out[0])
	return nil
}

func (f *face) listLines(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	p, num, size, err := q.page()
	if err != nil {
		return err
	}
	fl := apps.LineFilter{Page: p}
	if fl.Name, err = q.str("name"); err != nil {
		return err
	}
	l, err := f.Apps.ListLines(r.Context(), fl)
	if err != nil {
		return err
	}
	out, err := f.linesOf(r.Context(), l.Items)
	if err != nil {
		return err
	}
	writeList(w, r, num, size, l.Total, out)
	return nil
}

type lineInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (f *face) createLine(w http.ResponseWriter, r *http.Request) error {
	var in lineInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := f.Apps.CreateLine(r.Context(), apps.LineInput{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	return f.writeLine(w, r, http.StatusCreated, l)
}

func (f *face) getLine(w http.ResponseWriter, r *http.Request) error {
	l, err := f.line(r)
	if err != nil {
		return err
	}
	return f.writeLine(w, r, http.StatusOK, l)
}

func (f *face) updateLine(w http.ResponseWriter, r *http.Request) error {
	l, err := f.line(r)
	if err != nil {
		return err
	}
	var in lineInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if l, err = f.Apps.UpdateLine(r.Context(), l.ID, apps.LineInput{Name: in.Name, Description: in.Description}); err != nil {
		return err
	}
	return f.writeLine(w, r, http.StatusOK, l)
}

func (f *face) deleteLine(w http.ResponseWriter, r *http.Request) error {
	l, err := f.line(r)
	if err != nil {
		return err
	}
	if err := f.Apps.DeleteLine(r.Context(), l.ID); err != nil {
		return err
	}
	return success(w)
}

// listLineApps is GET /productions/{id}/applications/; its name filter is the
// application's (the document's "product line name" is a copy slip).
func (f *face) listLineApps(w http.ResponseWriter, r *http.Request) error {
	l, err := f.line(r)
	if err != nil {
		return err
	}
	fl, num, size, err := f.appFilter(r)
	if err != nil {
		return err
	}
	fl.ProductLineID = &l.ID
	return f.writeApps(w, r, fl, num, size)
}

func (f *face) changeLineApps(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, lineID string, appIDs []string) error) error {
	l, err := f.line(r)
	if err != nil {
		return err
	}
	ids, err := f.bodyAppIDs(r)
	if err != nil {
		return err
	}
	if err := change(r.Context(), l.ID, ids); err != nil {
		return err
	}
	return success(w)
}

func (f *face) addLineApps(w http.ResponseWriter, r *http.Request) error {
	return f.changeLineApps(w, r, f.Apps.AddLineApps)
}

func (f *face) removeLineApps(w http.ResponseWriter, r *http.Request) error {
	return f.changeLineApps(w, r, f.Apps.RemoveLineApps)
}
