package alfa

import (
	"net/http"

	"hostdeck/api/alfa/jsonapi"
	"hostdeck/core"
	"hostdeck/core/fleet"
)

var serverList = jsonapi.ListSpec{
	Filters: []string{"runtime"},
	Sorts:   []string{"name", "created_at", "capacity"},
}

// listServers lists the active servers: the ones new clients can be placed on.
func (f *face) listServers(w http.ResponseWriter, r *http.Request) error {
	q, err := jsonapi.ParseList(r.URL.Query(), serverList)
	if err != nil {
		return err
	}
	active := core.ServerActive
	servers, total, err := f.fleet.ListServers(r.Context(), core.ServerFilter{
		Status: &active, Runtime: q.FilterPtr("runtime"), Page: q.Page(),
	})
	if err != nil {
		return q.FilterError(err)
	}
	data := make([]*jsonapi.Resource, len(servers))
	for i, s := range servers {
		data[i] = serverResource(r, s)
	}
	return many(w, r, q, total, data)
}

func (f *face) getServer(w http.ResponseWriter, r *http.Request) error {
	d, err := f.fleet.ServerDetail(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, serverDetailResource(r, d))
}

// serverInput reads the attributes a server body may carry.
func serverInput(b *jsonapi.Body) fleet.ServerInput {
	in := fleet.ServerInput{
		Name: b.String("name"), Address: b.String("address"), Runtime: b.String("runtime"),
		Capacity: b.Int("capacity"), Location: b.String("location"),
	}
	if s := b.String("status"); s != nil {
		in.Status = (*core.ServerStatus)(s)
	}
	return in
}

func (f *face) createServer(w http.ResponseWriter, r *http.Request) error {
	b, err := jsonapi.Decode(r)
	if err != nil {
		return err
	}
	if err := b.CheckType(typeServers); err != nil {
		return err
	}
	if err := b.NoID(); err != nil {
		return err
	}
	in := serverInput(b)
	if err := b.Finish(); err != nil {
		return err
	}
	s, err := f.fleet.CreateServer(r.Context(), in)
	if err != nil {
		return err
	}
	res := serverResource(r, s)
	w.Header().Set("Location", res.Links["self"])
	return one(w, http.StatusCreated, res)
}

func (f *face) updateServer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	b, err := jsonapi.Decode(r)
	if err != nil {
		return err
	}
	if err := b.CheckType(typeServers); err != nil {
		return err
	}
	if err := b.CheckID(id); err != nil {
		return err
	}
	in := serverInput(b)
	if err := b.Finish(); err != nil {
		return err
	}
	s, err := f.fleet.UpdateServer(r.Context(), id, in)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, serverResource(r, s))
}

// rebootServer takes the server as ?id=, as the spec writes it.
func (f *face) rebootServer(w http.ResponseWriter, r *http.Request) error {
	ids := r.URL.Query()["id"]
	if len(ids) != 1 || ids[0] == "" {
		return jsonapi.ParameterError("id", "the server to reboot is given as ?id=")
	}
	t, err := f.fleet.RebootServer(r.Context(), ids[0])
	if err != nil {
		return err
	}
	return accepted(w, r, t)
}

func (f *face) deleteServer(w http.ResponseWriter, r *http.Request) error {
	if err := f.fleet.DeleteServer(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
