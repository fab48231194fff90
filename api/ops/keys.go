package ops

import (
	"net/http"

	"hostdeck/core"
	"hostdeck/core/login"
)

// Auth tokens (rows 136–140) are hostdeck's API keys (core/login): 40 hex
// characters, shown whole only in the answer that creates one, stored as a
// hash, acting as the user who made it. Reads show the first characters and
// "…" (the document's examples show the whole value again; hostdeck keeps
// none to show).

type keyBody struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Value       string `json:"value"`
	Description string `json:"description"`
	Creator     string `json:"creator"`
	CreatedTime string `json:"created_time"`
}

func keyOf(t *core.Token, value string) keyBody {
	if value == "" {
		value = t.Hint + "…"
	}
	return keyBody{ID: t.Number, Name: t.Name, Value: value, Description: t.Description, Creator: t.UserName, CreatedTime: when(t.IssuedAt)}
}

func (f *face) key(r *http.Request) (*core.Token, error) {
	n, err := pathID(r, "auth token")
	if err != nil {
		return nil, err
	}
	return f.Login.GetKeyByNumber(r.Context(), n)
}

func (f *face) listKeys(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	p, num, size, err := q.page()
	if err != nil {
		return err
	}
	fl := login.KeyFilter{Page: p}
	if fl.Name, err = q.str("name"); err != nil {
		return err
	}
	if fl.Description, err = q.str("description"); err != nil {
		return err
	}
	if fl.Value, err = q.str("value"); err != nil {
		return err
	}
	ks, total, err := f.Login.ListKeys(r.Context(), fl)
	if err != nil {
		return err
	}
	out := make([]keyBody, len(ks))
	for i, k := range ks {
		out[i] = keyOf(k, "")
	}
	writeList(w, r, num, size, total, out)
	return nil
}

type keyInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (f *face) createKey(w http.ResponseWriter, r *http.Request) error {
	var in keyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return invalid("name is required")
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	t, secret, err := f.Login.CreateKey(r.Context(), *in.Name, desc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyOf(t, secret))
	return nil
}

func (f *face) getKey(w http.ResponseWriter, r *http.Request) error {
	t, err := f.key(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyOf(t, ""))
	return nil
}

func (f *face) updateKey(w http.ResponseWriter, r *http.Request) error {
	t, err := f.key(r)
	if err != nil {
		return err
	}
	var in keyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if t, err = f.Login.UpdateKey(r.Context(), t.ID, in.Name, in.Description); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyOf(t, ""))
	return nil
}

func (f *face) deleteKey(w http.ResponseWriter, r *http.Request) error {
	t, err := f.key(r)
	if err != nil {
		return err
	}
	if err := f.Login.DeleteKey(r.Context(), t.ID); err != nil {
		return err
	}
	return success(w)
}
