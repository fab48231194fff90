package ops

import (
	"net/http"

	"hostdeck/core/links"
)

// External navigators (rows 131–135) are core/links's links.

type linkBody struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Img         string `json:"img"`
	URL         string `json:"url"`
	Creator     string `json:"creator"`
	CreatedTime string `json:"created_time"`
}

func linkOf(l *links.Link) linkBody {
	return linkBody{ID: l.Number, Name: l.Name, Img: l.Image, URL: l.URL, Creator: l.Creator, CreatedTime: when(l.CreatedAt)}
}

func (f *face) link(r *http.Request) (*links.Link, error) {
	n, err := pathID(r, "navigator")
	if err != nil {
		return nil, err
	}
	return f.Links.GetByNumber(r.Context(), n)
}

func (f *face) listLinks(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	p, num, size, err := q.page()
	if err != nil {
		return err
	}
	fl := links.LinkFilter{Page: p}
	if fl.Name, err = q.str("name"); err != nil {
		return err
	}
	l, err := f.Links.List(r.Context(), fl)
	if err != nil {
		return err
	}
	out := make([]linkBody, len(l.Items))
	for i, x := range l.Items {
		out[i] = linkOf(x)
	}
	writeList(w, r, num, size, l.Total, out)
	return nil
}

type linkInput struct {
	Name *string `json:"name"`
	Img  *string `json:"img"`
	URL  *string `json:"url"`
}

func (in linkInput) core() links.LinkInput {
	return links.LinkInput{Name: in.Name, Image: in.Img, URL: in.URL}
}

func (f *face) createLink(w http.ResponseWriter, r *http.Request) error {
	var in linkInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := f.Links.Create(r.Context(), in.core())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, linkOf(l))
	return nil
}

func (f *face) getLink(w http.ResponseWriter, r *http.Request) error {
	l, err := f.link(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, linkOf(l))
	return nil
}

func (f *face) updateLink(w http.ResponseWriter, r *http.Request) error {
	l, err := f.link(r)
	if err != nil {
		return err
	}
	var in linkInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if l, err = f.Links.Update(r.Context(), l.ID, in.core()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, linkOf(l))
	return nil
}

func (f *face) deleteLink(w http.ResponseWriter, r *http.Request) error {
	l, err := f.link(r)
	if err != nil {
		return err
	}
	if err := f.Links.Delete(r.Context(), l.ID); err != nil {
		return err
	}
	return success(w)
}
