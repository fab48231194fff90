package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/apps"
)

// Applications (rows 1–4, 8–10, 12–18) and product lines (rows 32–35):
// core/apps's tree, dependencies and responsible persons, with numeric ids and
// what the caller may do to each (available_actions).

// actionKeys are available_actions' two key sets for each action: the list
// examples' short keys and the data type's long ones.
var actionKeys = []struct {
	short, long string
	action      core.Action
}{
	{"view", "view_app", core.ActionApplicationView},
	{"deploy", "deploy_app", core.ActionApplicationDeploy},
	{"check_deploy_task", "review_app_deploy_task", core.ActionApplicationReviewDeploy},
	{"edit", "edit_app", core.ActionApplicationEdit},
	{"delete", "delete_app", core.ActionApplicationDelete},
	{"reboot", "restart_app", core.ActionApplicationRestart},
	{"view_log", "view_app_log", core.ActionApplicationViewLog},
	{"view_monitor", "view_app_monitor", core.ActionApplicationViewMonitor},
}

func availableActions(held []core.Action) map[string]bool {
	out := make(map[string]bool, 2*len(actionKeys))
	for _, k := range actionKeys {
		v := slices.Contains(held, k.action)
		out[k.short], out[k.long] = v, v
	}
	return out
}

// appBody is the Application object, with PATCH's attributes; run_user and
// run_users are the example's and the table's spelling of one field.
type appBody struct {
	ID               int64           `json:"id"`
	Name             string          `json:"name"`
	FullName         string          `json:"full_name"`
	HasChild         bool            `json:"has_child"`
	Production       *int64          `json:"production"`
	ParentApp        *int64          `json:"parent_app"`
	Description      string          `json:"description"`
	ApplicationType  json.RawMessage `json:"application_type"`
	RunUser          string          `json:"run_user"`
	RunUsers         string          `json:"run_users"`
	Directory        string          `json:"directory"`
	StartupCmd       string          `json:"startup_cmd"`
	StopCmd          string          `json:"stop_cmd"`
	StdoutPath       string          `json:"stdout_path"`
	StderrPath       string          `json:"stderr_path"`
	PidPath          string          `json:"pid_path"`
	ChildApps        []int64         `json:"child_apps"`
	RequiredApps     []int64         `json:"required_apps"`
	ResponsePerson   []int64         `json:"response_person"`
	Creator          string          `json:"creator"`
	CreatedTime      string          `json:"created_time"`
	AvailableActions map[string]bool `json:"available_actions"`
}

func numberOrNull(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func refNumbers(rs []apps.Ref) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.Number
	}
	return out
}

func appOf(a *apps.Application, held []core.Action) appBody {
	typ := a.Type
	if len(typ) == 0 {
		typ = json.RawMessage("null")
	}
	persons := make([]int64, len(a.Persons))
	for i, p := range a.Persons {
		persons[i] = p.UserNumber
	}
	return appBody{
		ID: a.Number, Name: a.Name, FullName: a.FullName, HasChild: a.HasChild,
		Production: numberOrNull(a.ProductLineNumber), ParentApp: numberOrNull(a.ParentNumber),
		Description: a.Description, ApplicationType: typ, RunUser: a.RunUser, RunUsers: a.RunUser,
		Directory: a.Directory, StartupCmd: a.StartupCmd, StopCmd: a.StopCmd,
		StdoutPath: a.StdoutPath, StderrPath: a.StderrPath, PidPath: a.PidPath,
		ChildApps: refNumbers(a.Children), RequiredApps: refNumbers(a.Required), ResponsePerson: persons,
		Creator: a.Creator, CreatedTime: when(a.CreatedAt), AvailableActions: availableActions(held),
	}
}

// appsOf renders a page of applications with what the caller may do to
// each, read for the whole page at once.
func (f *face) appsOf(ctx context.Context, as []*apps.Application) ([]appBody, error) {
	held, err := f.Apps.Actions(ctx, as)
	if err != nil {
		return nil, err
	}
	out := make([]appBody, len(as))
	for i, a := range as {
		out[i] = appOf(a, held[i])
	}
	return out, nil
}

// app is the application of the route's {id}.
func (f *face) app(r *http.Request) (*apps.Application, error) {
	n, err := pathID(r, "application")
	if err != nil {
		return nil, err
	}
	return f.Apps.GetByNumber(r.Context(), n)
}

// appFilter reads the list filters every application list takes.
func (f *face) appFilter(r *http.Request) (apps.AppFilter, int, int, error) {
	q := queryOf(r)
	var fl apps.AppFilter
	p, num, size, err := q.page()
	if err != nil {
		return fl, 0, 0, err
	}
	fl.Page = p
	if fl.Name, err = q.str("name"); err != nil {
		return fl, 0, 0, err
	}
	if fl.FullName, err = q.str("full_path", "full_name"); err != nil {
		return fl, 0, 0, err
	}
	if fl.HasParent, err = q.flag("has_parent"); err != nil {
		return fl, 0, 0, err
	}
	if fl.UserName, err = q.str("user"); err != nil {
		return fl, 0, 0, err
	}
	if fl.RoleName, err = q.str("role"); err != nil {
		return fl, 0, 0, err
	}
	persons, err := q.numbers("response_persons", "response_person")
	if err != nil {
		return fl, 0, 0, err
	}
	if len(persons) > 0 {
		if fl.PersonIDs, err = f.knownUserIDs(r.Context(), persons); err != nil {
			return fl, 0, 0, err
		}
	}
	return fl, num, size, nil
}

// knownUserIDs turns user numbers into ids, leaving out unknown ones (a
// filter of unknown persons matches nothing).
func (f *face) knownUserIDs(ctx context.Context, ns []int64) ([]string, error) {
	out := []string{}
	for _, n := range ns {
		id, err := f.Core.IDOfNumber(ctx, core.NumberUser, "user", n)
		switch core.ErrorKind(err) {
		case "":
			out = append(out, id)
		case core.KindNotFound:
		default:
			return nil, err
		}
	}
	return out, nil
}

// writeApps answers a page of applications.
func (f *face) writeApps(w http.ResponseWriter, r *http.Request, fl apps.AppFilter, num, size int) error {
	l, err := f.Apps.List(r.Context(), fl)
	if err != nil {
		return err
	}
	out, err := f.appsOf(r.Context(), l.Items)
	if err != nil {
		return err
	}
	writeList(w, r, num, size, l.Total, out)
	return nil
}

func (f *face) listApps(w http.ResponseWriter, r *http.Request) error {
	fl, num, size, err := f.appFilter(r)
	if err != nil {
		return err
	}
	return f.writeApps(w, r, fl, num, size)
}

func (f *face) getApp(w http.ResponseWriter, r *http.Request) error {
	a, err := f.app(r)
	if err != nil {
		return err
	}
	out, err := f.appsOf(r.Context(), []*apps.Application{a})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out[0])
	return nil
}

// appInput is the body of creating (an extension) or changing an
// application, in every spelling the document uses.
type appInput struct {
	Name            *string          `json:"name"`
	Description     *string          `json:"description"`
	ApplicationType *json.RawMessage `json:"application_type"`
	RunUser         *string          `json:"run_user"`
	RunUsers        *string          `json:"run_users"`
	Directory       *string          `json:"directory"`
	StartupCmd      *string          `json:"startup_cmd"`
	StopCmd         *string          `json:"stop_cmd"`
	StdoutPath      *string          `json:"stdout_path"`
	StderrPath      *string          `json:"stderr_path"`
	PidPath         *string          `json:"pid_path"`
	ParentApp       json.RawMessage  `json:"parent_app"`
	ChildApps       *[]ref           `json:"child_apps"`
	RequiredApps    *[]ref           `json:"required_apps"`
	ResponsePerson  *[]personRef     `json:"response_person"`
	ResponsePersons *[]personRef     `json:"response_persons"`
	Production      json.RawMessage  `json:"production"`
}

// personRef is a responsible person: {"id", "type"}, or a bare user id.
type personRef struct {
	ID   number `json:"id"`
	Type string `json:"type"`
}

func (p *personRef) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var v struct {
			ID   *number `json:"id"`
			Type string  `json:"type"`
		}
		d := json.NewDecoder(bytes.NewReader(t))
		d.DisallowUnknownFields()
		if err := d.Decode(&v); err != nil {
			return err
		}
		if v.ID == nil {
			return errors.New("a person names no id")
		}
		p.ID, p.Type = *v.ID, v.Type
		return nil
	}
	return p.ID.UnmarshalJSON(b)
}

// optionalNumber reads a field that is a number or null: nil when absent, ""
// for null (or 0, as the examples write a root), the record's id otherwise.
func (f *face) optionalNumber(ctx context.Context, raw json.RawMessage, kind core.NumberKind, what string) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	none := ""
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return &none, nil
	}
	var n number
	if err := n.UnmarshalJSON(raw); err != nil {
		return nil, invalid("%s must be a number or null", what)
	}
	if n == 0 {
		return &none, nil
	}
	id, err := f.Core.IDOfNumber(ctx, kind, what, int64(n))
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// appIDs turns application numbers into ids; an unknown one is a 10004.
func (f *face) appIDs(ctx context.Context, ns []int64) ([]string, error) {
	return f.idsOf(ctx, core.NumberApplication, "application", ns)
}

// bodyAppIDs are the ids of the applications a body lists ([{"id"}]).
func (f *face) bodyAppIDs(r *http.Request) ([]string, error) {
	ns, err := decodeRefs(r)
	if err != nil {
		return nil, err
	}
	return f.appIDs(r.Context(), ns)
}

func refInts(rs []ref) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = int64(r.ID)
	}
	return out
}

// input turns the body into core's input; current is the application it
// changes (nil on create), whose persons keep their types when a body names
// them by id alone.
func (f *face) input(ctx context.Context, in appInput, current *apps.Application) (apps.AppInput, error) {
	out := apps.AppInput{Name: in.Name, Description: in.Description, Type: in.ApplicationType,
		RunUser: in.RunUser, Directory: in.Directory, StartupCmd: in.StartupCmd, StopCmd: in.StopCmd,
		StdoutPath: in.StdoutPath, StderrPath: in.StderrPath, PidPath: in.PidPath}
	if out.RunUser == nil {
		out.RunUser = in.RunUsers
	}
	var err error
	if out.ParentID, err = f.optionalNumber(ctx, in.ParentApp, core.NumberApplication, "parent_app"); err != nil {
		return out, err
	}
	if out.ProductLineID, err = f.optionalNumber(ctx, in.Production, core.NumberProductLine, "production"); err != nil {
		return out, err
	}
	for _, set := range []struct {
		refs *[]ref
		ids  **[]string
	}{{in.ChildApps, &out.Children}, {in.RequiredApps, &out.Required}} {
		if set.refs == nil {
			continue
		}
		ids, err := f.appIDs(ctx, refInts(*set.refs))
		if err != nil {
			return out, err
		}
		*set.ids = &ids
	}
	persons := in.ResponsePerson
	if persons == nil {
		persons = in.ResponsePersons
	}
	if persons != nil {
		ps, err := f.persons(ctx, *persons, current)
		if err != nil {
			return out, err
		}
		out.Persons = &ps
	}
	return out, nil
}

// persons turns person refs into core's persons: a person named without a
// type keeps the one it has on current, or is a dev.
func (f *face) persons(ctx context.Context, refs []personRef, current *apps.Application) ([]apps.Person, error) {
	out := make([]apps.Person, len(refs))
	for i, p := range refs {
		id, err := f.Core.IDOfNumber(ctx, core.NumberUser, "user", int64(p.ID))
		if err != nil {
			return nil, err
		}
		typ := p.Type
		if typ == "" && current != nil {
			for _, c := range current.Persons {
				if c.UserID == id {
					typ = c.Type
				}
			}
		}
		if typ == "" {
			typ = "dev"
		}
		out[i] = apps.Person{UserID: id, Type: typ}
	}
	return out, nil
}

func (f *face) createApp(w http.ResponseWriter, r *http.Request) error {
	var in appInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ai, err := f.input(r.Context(), in, nil)
	if err != nil {
		return err
	}
	a, err := f.Apps.Create(r.Context(), ai)
	if err != nil {
		return err
	}
	out, err := f.appsOf(r.Context(), []*apps.Application{a})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out[0])
	return nil
}

func (f *face) updateApp(w http.ResponseWriter, r *http.Request) error {
	a, err := f.app(r)
	if err != nil {
		return err
	}
	var in appInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ai, err := f.input(r.Context(), in, a)
	if err != nil {
		return err
	}
	if _, err := f.Apps.Update(r.Context(), a.ID, ai); err != nil {
		return err
	}
	return success(w)
}

func (f *face) deleteApp(w http.ResponseWriter, r *http.Request) error {
	a, err := f.app(r)
	if err != nil {
		return err
	}
	if err := f.Apps.Delete(r.Context(), a.ID); err != nil {
		return err
	}
	return success(w)
}

// appsByUsers is POST /applications/get-by-users/: for each user of the body,
// the applications it may see (up to 1000), with what the caller may do to
// each.
func (f *face) appsByUsers(w http.ResponseWriter, r *http.Request) error {
	ns, err := decodeRefs(r)
	if err != nil {
		return err
	}
	type entry struct {
		UserID       int64     `json:"user_id"`
		Applications []appBody `json:"applications"`
	}
	out := make([]entry, 0, len(ns))
	for _, n := range ns {
		id, err := f.Core.IDOfNumber(r.Context(), core.NumberUser, "user", n)
		if err != nil {
			return err
		}
		u, err := f.Identity.GetUser(r.Context(), id)
		if err != nil {
			return err
		}
		l, err := f.Apps.List(r.Context(), apps.AppFilter{UserID: &u.ID, Page: core.Page{Limit: maxPageSize}})
		if err != nil {
			return err
		}
		as, err := f.appsOf(r.Context(), l.Items)
		if err != nil {
			return err
		}
		out = append(out, entry{UserID: n, Applications: as})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// personBody is an App response person: a user, with its type.
type personBody struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Type   string `json:"type"`
	Mobile any    `json:"mobile"`
	Phone  string `json:"phone"`
}

var digits = regexp.MustCompile(`^[0-9]{1,15}$`)

func personOf(p apps.Person) personBody {
	var mobile any = p.Phone
	if digits.MatchString(p.Phone) {
		mobile = json.Number(p.Phone)
	}
	return personBody{ID: p.UserNumber, Name: p.Name, Email: p.Email, Type: p.Type, Mobile: mobile, Phone: p.Phone}
}

func personsOf(ps []apps.Person) []personBody {
	out := make([]personBody, len(ps))
	for i, p := range ps {
		out[i] = personOf(p)
	}
	return out
}

func (f *face) listPersons(w http.ResponseWriter, r *http.Request) error {
	a, err := f.app(r)
	if err != nil {
		return err
	}
	p, num, size, err := queryOf(r).page()
	if err != nil {
		return err
	}
	l, err := f.Apps.ListPersons(r.Context(), a.ID, p)
	if err != nil {
		return err
	}
	writeList(w, r, num, size, l.Total, personsOf(l.Items))
	return nil
}

func (f *face) addPersons(w http.ResponseWriter, r *http.Request) error {
	a, err := f.app(r)
	if err != nil {
		return err
	}
	refs, err := decodeArray[personRef](r)
	if err != nil {
		return err
	}
	for _, p := range refs {
		if p.Type == "" {
			return invalid("every person has a type: dev, ops, qa or pm")
		}
	}
	ps, err := f.persons(r.Context(), refs, nil)
	if err != nil {
		return err
	}
	added, err := f.Apps.AddPersons(r.Context(), a.ID, ps)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personsOf(added))
	return nil
}

func (f *face) removePersons(w http.ResponseWriter, r *http.Request) error {
	a, err := f.app(r)
	if err != nil {
		return err
	}
	ns, err := decodeRefs(r)
	if err != nil {
		return err
	}
	ids, err := f.idsOf(r.Context(), core.NumberUser, "user", ns)
	if err != nil {
		return err
	}
	if err := f.Apps.RemovePersons(r.Context(), a.ID, ids); err != nil {
		return err
	}
	return success(w)
}

// appRelation is one of an application's related lists: its children, the
// applications it requires, those requiring it (read only).
type appRelation struct {
	path        string
	filter      func(fl *apps.AppFilter, id string)
	add, remove func(s *apps.Service, ctx context.Context, id string, ids []string) error
}

var appRelations = []appRelation{
	{"child-apps", func(fl *apps.AppFilter, id string) { fl.ParentID = &id }, (*apps.Service).AddChildren, (*apps.Service).RemoveChildren},
	{"required-apps", func(fl *apps.AppFilter, id string) { fl.RequiredBy = &id }, (*apps.Service).AddRequired, (*apps.Service).RemoveRequired},
	{"required-by-apps", func(fl *apps.AppFilter, id string) { fl.Requires = &id }, nil, nil},
}

func (f *face) listRelated(rel appRelation) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := f.app(r)
		if err != nil {
			return err
		}
		fl, num, size, err := f.appFilter(r)
		if err != nil {
			return err
		}
		rel.filter(&fl, a.ID)
		return f.writeApps(w, r, fl, num, size)
	}
}

// addRelated links the applications of the body and answers them as they
// are then.
func (f *face) addRelated(rel appRelation) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := f.app(r)
		if err != nil {
			return err
		}
		ids, err := f.bodyAppIDs(r)
		if err != nil {
			return err
		}
		if err := rel.add(f.Apps, r.Context(), a.ID, ids); err != nil {
			return err
		}
		linked := make([]*apps.Application, 0, len(ids))
		for _, id := range ids {
			x, err := f.Apps.Get(r.Context(), id)
			if err != nil {
				return err
			}
			linked = append(linked, x)
		}
		out, err := f.appsOf(r.Context(), linked)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (f *face) removeRelated(rel appRelation) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := f.app(r)
		if err != nil {
			return err
		}
		ids, err := f.bodyAppIDs(r)
		if err != nil {
			return err
		}
		if err := rel.remove(f.Apps, r.Context(), a.ID, ids); err != nil {
			return err
		}
		return success(w)
	}
}
