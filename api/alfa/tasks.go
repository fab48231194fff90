package alfa

import (
	"net/http"

	"hostdeck/api/alfa/jsonapi"
	"hostdeck/core"
)

var taskList = jsonapi.ListSpec{
	Filters: []string{"status", "kind", "target_id"},
	Sorts:   []string{"created_at", "status", "kind"},
}

func (f *face) listTasks(w http.ResponseWriter, r *http.Request) error {
	q, err := jsonapi.ParseList(r.URL.Query(), taskList)
	if err != nil {
		return err
	}
	filter := core.TaskFilter{Kind: q.FilterPtr("kind"), TargetID: q.FilterPtr("target_id"), Page: q.Page()}
	if s := q.FilterPtr("status"); s != nil {
		filter.Status = (*core.TaskStatus)(s)
	}
	tasks, total, err := f.svc.ListTasks(r.Context(), filter)
	if err != nil {
		return q.FilterError(err)
	}
	data := make([]*jsonapi.Resource, len(tasks))
	for i, t := range tasks {
		data[i] = taskResource(r, t)
	}
	return many(w, r, q, total, data)
}

func (f *face) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := f.svc.GetTask(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, taskResource(r, t))
}

func (f *face) cancelTask(w http.ResponseWriter, r *http.Request) error {
	t, err := f.svc.CancelTask(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, taskResource(r, t))
}

var auditList = jsonapi.ListSpec{
	Filters: []string{"actor", "action", "target_id"},
	Sorts:   []string{"at", "actor", "action"},
}

func (f *face) listAudit(w http.ResponseWriter, r *http.Request) error {
	q, err := jsonapi.ParseList(r.URL.Query(), auditList)
	if err != nil {
		return err
	}
	events, total, err := f.svc.ListAudit(r.Context(), core.AuditFilter{
		Actor: q.FilterPtr("actor"), Action: q.FilterPtr("action"), TargetID: q.FilterPtr("target_id"), Page: q.Page(),
	})
	if err != nil {
		return q.FilterError(err)
	}
	data := make([]*jsonapi.Resource, len(events))
	for i, e := range events {
		data[i] = auditResource(e)
	}
	return many(w, r, q, total, data)
}

// setAdminPassword sets the API password of the authenticated user; the old one
// stops working at once.
func (f *face) setAdminPassword(w http.ResponseWriter, r *http.Request) error {
	b, err := jsonapi.Decode(r)
	if err != nil {
		return err
	}
	if err := b.CheckType(typeCredentials); err != nil {
		return err
	}
	pw := b.String("password")
	if err := b.Finish(); err != nil {
		return err
	}
	if pw == nil {
		pw = new(string) // core says what a missing password is
	}
	if err := f.logins.SetPassword(r.Context(), core.ActorFrom(r.Context()).UserID, *pw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
