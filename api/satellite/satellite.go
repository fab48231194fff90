// Package satellite is the face that speaks a storage satellite's admin API
// (spec 003): users, coupons, projects and project limits, authenticated by the
// raw Authorization header and answering errors as {"error", "detail"}. Every
// rule lives in core; the routes and the choices made where the document is
// silent are in README.md beside this file.
package satellite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/billing"
	"hostdeck/core/login"
	"hostdeck/core/quota"
	"hostdeck/core/tenancy"
)

// Face is the face's name in logs, metrics and audit events.
const Face = "satellite"

// Options configure the handler.
type Options struct {
	Log *slog.Logger
	// Metrics records requests; when nil and Registerer is set, metrics are
	// registered there.
	Metrics    *httpx.Metrics
	Registerer prometheus.Registerer
	// Prefix is the path the face is mounted under ("/satellite"); found per
	// request when empty.
	Prefix string
}

type face struct {
	svc     *tenancy.Service
	coupons *billing.Service
	quotas  *quota.Service
	logins  *login.Service
	log     *slog.Logger
}

// NewHandler returns the satellite face over svc (the customers and their
// projects), coupons and quotas (the projects' limits). Its paths are relative to its
// mount point: mount it with http.StripPrefix under a prefix, or at "/".
func NewHandler(svc *tenancy.Service, coupons *billing.Service, quotas *quota.Service, logins *login.Service, o Options) http.Handler {
	f := &face{svc: svc, coupons: coupons, quotas: quotas, logins: logins, log: httpx.Logger(o.Log)}
	rt := httpx.NewRouter(f.middleware)
	f.routes(rt)
	return httpx.Serve(rt, httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: writeError, Prefix: o.Prefix})
}

// routes is the face's route table.
func (f *face) routes(rt *httpx.Router) {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	rt.Handle(post, "/api/user", f.createUser)
	rt.Handle(get, "/api/user/{email}", f.getUser)
	rt.Handle(put, "/api/user/{email}", f.updateUser)
	rt.Handle(del, "/api/user/{email}", f.deleteUser)
	rt.Handle(post, "/api/coupon", f.createCoupon)
	rt.Handle(get, "/api/coupon/{id}", f.getCoupon)
	rt.Handle(del, "/api/coupon/{id}", f.deleteCoupon)
	rt.Handle(post, "/api/project", f.createProject)
	rt.Handle(get, "/api/project/{id}", f.getProject)
	rt.Handle(put, "/api/project/{id}", f.updateProject)
	rt.Handle(del, "/api/project/{id}", f.deleteProject)
	rt.Handle(get, "/api/project/{id}/usage", f.projectUsage)
	rt.Handle(get, "/api/project/{id}/limit", f.getLimits)
	rt.Handle(post, "/api/project/{id}/limit", f.setLimits)
	rt.Handle(put, "/api/project/{id}/limit", f.setLimits)
}

// middleware runs around every route (404 and 405 included): it authenticates
// the Authorization header and puts the actor in the context. Every error, a
// refusal here included, is answered by writeError.
func (f *face) middleware(next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		l, err := f.logins.LoginOperator(r.Context(), r.Header.Get("Authorization"), login.Origin{Face: Face, Source: httpx.RemoteIP(r)})
		if err != nil {
			return err
		}
		return next(w, r.WithContext(core.WithActor(r.Context(), l.Actor)))
	}
}

// apiError is an error the face itself finds in a request (a body that does
// not decode, a query value that does not parse), with the document's detail.
type apiError struct {
	status int
	msg    string
	detail string
}

func (e *apiError) Error() string { return e.msg + ": " + e.detail }

func badRequest(msg string, detail error) error {
	d := ""
	if detail != nil {
		d = detail.Error()
	}
	return &apiError{status: http.StatusBadRequest, msg: msg, detail: d}
}

// pathUUID reads the path value name as the original server parses an id: a
// UUID of 36 characters (hyphens at 8, 13, 18 and 23, hex digits elsewhere, in
// either case), returned in lower case. Anything else is a 400 with msg, the
// original's error for that route, before anything is looked up.
func pathUUID(r *http.Request, name, msg string) (string, error) {
	id := r.PathValue(name)
	if core.ValidID(id) {
		return strings.ToLower(id), nil
	}
	detail := "uuid: invalid string"
	if len(id) != 36 {
		detail = fmt.Sprintf("uuid: invalid string length %d expected 36", len(id))
	}
	return "", &apiError{status: http.StatusBadRequest, msg: msg, detail: detail}
}

// projectID is the {id} of a /api/project/{id} route.
func projectID(r *http.Request) (string, error) { return pathUUID(r, "id", "invalid project-uuid") }

// errorBody is the document's error shape.
type errorBody struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

// statusOf is the one place where an error becomes a status and a message.
func statusOf(err error) (int, string, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.msg, ae.detail
	}
	var he *httpx.Error
	if errors.As(err, &he) {
		msg := he.Message
		if msg == "" {
			msg = http.StatusText(he.Status)
		}
		return he.Status, msg, ""
	}
	msg := core.ErrorMessage(err)
	if w, ok := originalWords[msg]; ok {
		msg = w
	}
	return httpx.StatusOf(core.ErrorKind(err)), msg, ""
}

// originalWords are the original server's texts for core's refusals that its
// clients match on: core names fields in its own words, the face in the
// document's.
var originalWords = map[string]string{
	"owner_id is not set":                "OwnerID is not set",
	"owner_id is not a valid UUID":       "OwnerID is not a valid UUID",
	"name is not set":                    "ProjectName is not set",
	"name or description must be set":    "ProjectName or Description must be set",
	"user_id is not set":                 "user ID is not set",
	"user_id is not a valid UUID":        "user ID is not a valid UUID",
	"project_limit must not be negative": "projectLimit must not be negative",
}

// writeError is the face's one error renderer (its httpx.ErrorWriter):
// {"error", "detail"} with the status statusOf gives.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, detail := statusOf(err)
	writeJSON(w, status, errorBody{Error: msg, Detail: detail})
}

// writeJSON sends v as JSON without a trailing newline, as the original server does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(`{"error":"internal error","detail":""}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// ok answers a successful change: 200 with an empty body.
func ok(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }

// decodeJSON reads a JSON body into v (unknown fields are ignored, as the
// original server ignores them).
func decodeJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{status: http.StatusRequestEntityTooLarge, msg: "request body too large",
				detail: fmt.Sprintf("the body is larger than %d bytes", httpx.MaxBody)}
		}
		return badRequest("failed to read body", err)
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("failed to unmarshal request", err)
	}
	return nil
}

// --- users ---

type userInput struct {
	Email        *string `json:"email"`
	FullName     *string `json:"fullName"`
	ShortName    *string `json:"shortName"`
	Password     *string `json:"password"`
	ProjectLimit *int    `json:"projectLimit"`
}

func (in userInput) core() tenancy.CustomerInput {
	return tenancy.CustomerInput{Email: in.Email, FullName: in.FullName, ShortName: in.ShortName,
		Password: in.Password, ProjectLimit: in.ProjectLimit}
}

type createdUser struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	FullName     string `json:"fullName"`
	ShortName    string `json:"shortName"`
	PasswordHash string `json:"passwordHash"` // always empty: the hash never leaves
}

func (f *face) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := f.svc.CreateCustomer(r.Context(), in.core())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, createdUser{ID: u.ID, Email: u.Email, FullName: u.Profile.FullName, ShortName: u.Profile.ShortName})
	return nil
}

type userView struct {
	ID           string `json:"id"`
	FullName     string `json:"fullName"`
	ShortName    string `json:"shortName"`
	Email        string `json:"email"`
	ProjectLimit int    `json:"projectLimit"`
}

type projectView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	OwnerID     string `json:"ownerId"`
}

type couponView struct {
	ID          string               `json:"id"`
	UserID      string               `json:"userId"`
	Duration    int                  `json:"duration"`
	Amount      int64                `json:"amount"`
	Description string               `json:"description"`
	Type        billing.CouponType   `json:"type"`
	Status      billing.CouponStatus `json:"status"`
	Created     time.Time            `json:"created"`
}

func viewCoupon(c *billing.Coupon) couponView {
	return couponView{ID: c.ID, UserID: c.UserID, Duration: c.Duration, Amount: c.Amount, Description: c.Description,
		Type: c.Type, Status: c.Status, Created: c.CreatedAt}
}

func (f *face) getUser(w http.ResponseWriter, r *http.Request) error {
	email := r.PathValue("email")
	acc, err := f.svc.Account(r.Context(), email)
	if err != nil {
		return err
	}
	out := struct {
		User     userView      `json:"user"`
		Projects []projectView `json:"projects"`
		Coupons  []couponView  `json:"coupons"`
	}{
		User: userView{ID: acc.ID, FullName: acc.Profile.FullName, ShortName: acc.Profile.ShortName,
			Email: acc.Email, ProjectLimit: acc.Profile.ProjectLimit},
		Projects: []projectView{}, Coupons: []couponView{},
	}
	if out.User.Email == "" {
		out.User.Email = acc.Name
	}
	for _, p := range acc.Projects {
		out.Projects = append(out.Projects, projectView{ID: p.ID, Name: p.Name, Description: p.Description, OwnerID: p.OwnerID})
	}
	for _, c := range acc.Coupons {
		out.Coupons = append(out.Coupons, viewCoupon(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (f *face) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if _, err := f.svc.UpdateCustomer(r.Context(), r.PathValue("email"), in.core()); err != nil {
		return err
	}
	ok(w)
	return nil
}

func (f *face) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := f.svc.DeleteCustomer(r.Context(), r.PathValue("email")); err != nil {
		return err
	}
	ok(w)
	return nil
}

// --- coupons ---

type couponInput struct {
	UserID      string `json:"userId"`
	Duration    int    `json:"duration"`
	Amount      int64  `json:"amount"`
	Description string `json:"description"`
}

func (f *face) createCoupon(w http.ResponseWriter, r *http.Request) error {
	var in couponInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := f.coupons.CreateCoupon(r.Context(), billing.CouponInput{UserID: in.UserID, Duration: in.Duration, Amount: in.Amount, Description: in.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": c.ID})
	return nil
}

func (f *face) getCoupon(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUUID(r, "id", "invalid couponId")
	if err != nil {
		return err
	}
	c, err := f.coupons.GetCoupon(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewCoupon(c))
	return nil
}

func (f *face) deleteCoupon(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUUID(r, "id", "invalid couponid")
	if err != nil {
		return err
	}
	if err := f.coupons.DeleteCoupon(r.Context(), id); err != nil {
		return err
	}
	ok(w)
	return nil
}

// --- projects ---

type projectInput struct {
	OwnerID     string  `json:"ownerId"`
	ProjectName *string `json:"projectName"`
	Description *string `json:"description"`
}

func (f *face) createProject(w http.ResponseWriter, r *http.Request) error {
	var in projectInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	name := ""
	if in.ProjectName != nil {
		name = *in.ProjectName
	}
	p, err := f.svc.CreateProject(r.Context(), in.OwnerID, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"projectId": p.ID})
	return nil
}

func (f *face) getProject(w http.ResponseWriter, r *http.Request) error {
	id, err := projectID(r)
	if err != nil {
		return err
	}
	p, err := f.svc.Project(r.Context(), id)
	if err != nil {
		return err
	}
	l, err := f.quotas.Limits(r.Context(), p.ID)
	if err != nil {
		return err
	}
	out := struct {
		ID          string    `json:"id"`
		Name        string    `json:"name"`
		Description string    `json:"description"`
		OwnerID     string    `json:"ownerId"`
		RateLimit   *int      `json:"rateLimit"`
		MaxBuckets  *int      `json:"maxBuckets"`
		CreatedAt   time.Time `json:"createdAt"`
	}{ID: p.ID, Name: p.Name, Description: p.Description, OwnerID: p.OwnerID, CreatedAt: p.CreatedAt}
	if l.Rate > 0 {
		out.RateLimit = &l.Rate
	}
	if l.Buckets > 0 {
		out.MaxBuckets = &l.Buckets
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (f *face) updateProject(w http.ResponseWriter, r *http.Request) error {
	id, err := projectID(r)
	if err != nil {
		return err
	}
	var in projectInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if _, err := f.svc.UpdateProject(r.Context(), id, in.ProjectName, in.Description); err != nil {
		return err
	}
	ok(w)
	return nil
}

func (f *face) deleteProject(w http.ResponseWriter, r *http.Request) error {
	id, err := projectID(r)
	if err != nil {
		return err
	}
	if err := f.svc.DeleteProject(r.Context(), id); err != nil {
		return err
	}
	ok(w)
	return nil
}

func (f *face) projectUsage(w http.ResponseWriter, r *http.Request) error {
	id, err := projectID(r)
	if err != nil {
		return err
	}
	if err := f.svc.ProjectUsageCheck(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": "no project usage exist"})
	return nil
}

// --- limits ---

type amount struct {
	Amount string `json:"amount"`
	Bytes  int64  `json:"bytes"`
}

type limitsView struct {
	Usage     amount `json:"usage"`
	Bandwidth amount `json:"bandwidth"`
	Rate      struct {
		RPS int `json:"rps"`
	} `json:"rate"`
	MaxBuckets int `json:"maxBuckets"`
}

func (f *face) getLimits(w http.ResponseWriter, r *http.Request) error {
	id, err := projectID(r)
	if err != nil {
		return err
	}
	l, err := f.quotas.Limits(r.Context(), id)
	if err != nil {
		return err
	}
	var out limitsView
	out.Usage = amount{Amount: FormatSize(l.Usage), Bytes: l.Usage}
	out.Bandwidth = amount{Amount: FormatSize(l.Bandwidth), Bytes: l.Bandwidth}
	out.Rate.RPS = l.Rate
	out.MaxBuckets = l.Buckets
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (f *face) setLimits(w http.ResponseWriter, r *http.Request) error {
	id, err := projectID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{status: http.StatusRequestEntityTooLarge, msg: "request body too large",
				detail: fmt.Sprintf("the body is larger than %d bytes", httpx.MaxBody)}
		}
		return badRequest("failed to parse form", err)
	}
	in, err := parseLimits(r.Form)
	if err != nil {
		return err
	}
	if _, err := f.quotas.SetLimits(r.Context(), id, in); err != nil {
		return err
	}
	ok(w)
	return nil
}

// parseLimits reads usage, bandwidth (sizes), rate and buckets (integers) from
// a query string or form; absent ones are not changed. Whether a value is
// allowed (not negative) is core's rule (SetProjectLimits).
func parseLimits(v map[string][]string) (quota.ProjectLimitsInput, error) {
	var in quota.ProjectLimitsInput
	get := func(k string) (string, bool) {
		vs, ok := v[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return strings.TrimSpace(vs[0]), true
	}
	for _, k := range []string{"usage", "bandwidth"} {
		s, ok := get(k)
		if !ok {
			continue
		}
		n, err := ParseSize(s)
		if err != nil {
			return in, badRequest("failed to parse "+k+" limit", err)
		}
		if k == "usage" {
			in.Usage = &n
		} else {
			in.Bandwidth = &n
		}
	}
	for _, k := range []string{"rate", "buckets"} {
		s, ok := get(k)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return in, badRequest("failed to parse "+k+" limit", err)
		}
		if k == "rate" {
			in.Rate = &n
		} else {
			in.Buckets = &n
		}
	}
	return in, nil
}
