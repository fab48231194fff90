package alfa

import (
	"net/http"

	"hostdeck/api/alfa/jsonapi"
	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/cloud"
)

var clientList = jsonapi.ListSpec{
	Filters: []string{"server_id", "status", "name", "email"},
	Sorts:   []string{"name", "created_at", "expire_date", "email", "status"},
}

// listClients answers from the answers kept while the clients are unchanged
// (httpx.Answers): every route is an administrator's and shows the same to
// each, so the key is the request's.
func (f *face) listClients(w http.ResponseWriter, r *http.Request) error {
	q, err := jsonapi.ParseList(r.URL.Query(), clientList)
	if err != nil {
		return err
	}
	filter := core.ClientFilter{
		ServerID: q.FilterPtr("server_id"), Name: q.FilterPtr("name"), Email: q.FilterPtr("email"), Page: q.Page(),
	}
	if s := q.FilterPtr("status"); s != nil {
		filter.Status = (*core.ClientStatus)(s)
	}
	return f.answers.Serve(w, httpx.AnswerKey(r, r.URL.RawQuery), func(since core.Stamp) (httpx.Listed, error) {
		filter.Since = since
		clients, err := f.svc.ListClients(r.Context(), filter)
		if err != nil {
			return httpx.Listed{}, q.FilterError(err)
		}
		return httpx.Listed{Stamp: clients.Stamp, Unchanged: clients.Unchanged, Render: func(w http.ResponseWriter) error {
			data := make([]*jsonapi.Resource, len(clients.Items))
			for i, c := range clients.Items {
				data[i] = clientViewResource(r, c)
			}
			return many(w, r, q, clients.Total, data)
		}}, nil
	})
}

func (f *face) getClient(w http.ResponseWriter, r *http.Request) error {
	return f.renderClient(w, r, r.PathValue("id"))
}

// serverRef reads the server a body names: attribute server_id or the to-one
// relationship "server", not both.
func serverRef(b *jsonapi.Body) *string {
	attr := b.String("server_id")
	rel := b.RelationshipID("server", typeServers)
	if attr != nil && rel != nil && *attr != *rel {
		b.Fail("server_id", "server_id and relationships.server name different servers")
	}
	if attr != nil {
		return attr
	}
	return rel
}

// createClient starts the full creation cycle of a client's cloud: 202 with the
// task as primary data and the client in "included".
func (f *face) createClient(w http.ResponseWriter, r *http.Request) error {
	b, err := jsonapi.Decode(r)
	if err != nil {
		return err
	}
	if err := b.CheckType(typeClients); err != nil {
		return err
	}
	if err := b.NoID(); err != nil {
		return err
	}
	in := cloud.ClientInput{
		Name: b.String("name"), Email: b.String("email"), Phone: b.String("phone"), Lang: b.String("lang"),
		ServerID: serverRef(b), ExpireDate: b.NullableDate("expire_date"),
	}
	if err := b.Finish(); err != nil {
		return err
	}
	c, t, err := f.svc.CreateClient(r.Context(), in)
	if err != nil {
		return err
	}
	return accepted(w, r, t, clientResource(r, c, false))
}

// clientBody decodes a body about the client in the path: type "clients" and, if
// it has one, the same id.
func clientBody(r *http.Request) (*jsonapi.Body, error) {
	b, err := jsonapi.Decode(r)
	if err != nil {
		return nil, err
	}
	if err := b.CheckType(typeClients); err != nil {
		return nil, err
	}
	if err := b.CheckID(r.PathValue("id")); err != nil {
		return nil, err
	}
	return b, nil
}

// renderClient answers with the client as it is now.
func (f *face) renderClient(w http.ResponseWriter, r *http.Request, id string) error {
	v, err := f.svc.GetClient(r.Context(), id)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, clientViewResource(r, v))
}

func (f *face) updateClient(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	b, err := clientBody(r)
	if err != nil {
		return err
	}
	for _, name := range []string{"owner_password", "password"} {
		b.Reject(name, name+" cannot be edited here; use POST /clients/owner_password")
	}
	in := cloud.ClientInput{
		Name: b.String("name"), Email: b.String("email"), Phone: b.String("phone"), Lang: b.String("lang"),
		ServerID: b.String("server_id"), ExpireDate: b.NullableDate("expire_date"),
	}
	if err := b.Finish(); err != nil {
		return err
	}
	if _, err := f.svc.UpdateClient(r.Context(), id, in); err != nil {
		return err
	}
	return f.renderClient(w, r, id)
}

func (f *face) setExpireDate(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	b, err := clientBody(r)
	if err != nil {
		return err
	}
	d := b.NullableDate("expire_date")
	if d == nil && !b.Has("expire_date") {
		b.Fail("expire_date", `expire_date is required: a date ("YYYY-MM-DD" or RFC 3339), or null to clear it`)
	}
	if err := b.Finish(); err != nil {
		return err
	}
	if _, err := f.svc.SetExpireDate(r.Context(), id, *d); err != nil {
		return err
	}
	return f.renderClient(w, r, id)
}

var expireList = jsonapi.ListSpec{Sorts: []string{"at"}}

func (f *face) expireHistory(w http.ResponseWriter, r *http.Request) error {
	q, err := jsonapi.ParseList(r.URL.Query(), expireList)
	if err != nil {
		return err
	}
	changes, total, err := f.svc.ExpireHistory(r.Context(), r.PathValue("id"), q.Page())
	if err != nil {
		return err
	}
	data := make([]*jsonapi.Resource, len(changes))
	for i, c := range changes {
		data[i] = expireChangeResource(c)
	}
	return many(w, r, q, total, data)
}

// ownerPassword sets the lab owner's password; the client is data.id or the
// attribute client_id.
func (f *face) ownerPassword(w http.ResponseWriter, r *http.Request) error {
	b, err := jsonapi.Decode(r)
	if err != nil {
		return err
	}
	if err := b.CheckType(typeClients); err != nil {
		return err
	}
	id := b.String("client_id")
	pw := b.String("password")
	switch {
	case id != nil && b.HasID && *id != b.ID:
		return jsonapi.PointerError(http.StatusConflict, "/data/id", "data.id and attribute client_id name different clients")
	case id == nil && b.HasID:
		id = &b.ID
	}
	if err := b.Finish(); err != nil {
		return err
	}
	if id == nil {
		return jsonapi.PointerError(http.StatusBadRequest, "/data/id", "name the client by data.id or the attribute client_id")
	}
	if pw == nil {
		pw = new(string) // core says what a missing password is
	}
	t, err := f.svc.SetOwnerPassword(r.Context(), *id, *pw)
	if err != nil {
		return err
	}
	return accepted(w, r, t)
}

func (f *face) transferClient(w http.ResponseWriter, r *http.Request) error {
	b, err := clientBody(r)
	if err != nil {
		return err
	}
	srv := serverRef(b)
	if err := b.Finish(); err != nil {
		return err
	}
	if srv == nil {
		srv = new(string) // core says what a missing server is
	}
	t, err := f.svc.TransferClient(r.Context(), r.PathValue("id"), *srv)
	if err != nil {
		return err
	}
	return accepted(w, r, t)
}

// clientAction adapts a core action on the client in the path to a 202 with its
// task. A body, if any, is ignored: the documented actions are GETs.
func (f *face) clientAction(do func(f *face, r *http.Request, id string) (*core.Task, error)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := do(f, r, r.PathValue("id"))
		if err != nil {
			return err
		}
		return accepted(w, r, t)
	}
}
