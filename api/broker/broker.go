// Package broker is the face that speaks the "TRS broker" API of the
// remote-desktop document (spec 001, port 9365): users ask for a machine
// (request-vm), poll for it (get-vm), list their projects, leave a machine and
// change their password. Errors use the TRS envelope and catalogue (api/rsproto,
// shared with api/trs).
//
// Choices where the document is silent: a client authenticates with
// user/password/user_domain_name in the body, or with a token given as "token"
// in the body, "Authorization: Bearer", or X-Auth-Token. get-vm answers "status":
// "in progress" ("server": null while the machine is not chosen, then the
// machine as it builds) and "completed" once the machine is active, recording a
// session each time; a request that cannot end well is an error (codes 3, 13,
// 17, 18, 25). The one-time code of a user with TOTP is "otp" or
// "passcode" in the body (the document names no field). A password login whose
// password expires soon, or that used a grace login, gets the answer with a
// "warning" member ({"code": 19 or 20, "message", "data"}). The Web Guard of a
// TRS project is checked against the connection's address.
package broker

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx"
	"hostdeck/api/rsproto"
	"hostdeck/core"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/session"
	"hostdeck/core/login"
)

// Face is the face's name in logs, metrics and audit events.
const Face = "broker"

// Options configure the handler.
type Options struct {
	Log        *slog.Logger
	Metrics    *httpx.Metrics
	Registerer prometheus.Registerer // used when Metrics is nil (never the global registry)
	Prefix     string                // the mount point ("/broker"); found per request when empty
}

type face struct {
	svc      *handout.Service
	machines *machine.Service
	logins   *login.Service
	log      *slog.Logger
}

// NewHandler returns the broker face over the hand-out (svc) and the machines it
// hands out, with paths relative to its mount point.
func NewHandler(svc *handout.Service, machines *machine.Service, logins *login.Service, o Options) http.Handler {
	f := &face{svc: svc, machines: machines, logins: logins, log: httpx.Logger(o.Log)}
	rt := httpx.NewRouter(f.middleware)
	post := http.MethodPost
	rt.Handle(post, "/v1/request-vm", f.requestVM)
	rt.Handle(post, "/v1/get-vm", f.getVM)
	rt.Handle(post, "/v1/get-projects", f.getProjects)
	rt.Handle(post, "/v1/server-remove-user", f.serverRemoveUser)
	rt.Handle(post, "/v1/change-password", f.changePassword)
	return httpx.Serve(rt, httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: rsproto.WriteError, Prefix: o.Prefix})
}

// middleware runs around every route (404 and 405 included): an ended
// licence stops the broker's work; each route logs in with its body's
// credentials. Every error is answered in the TRS envelope
// (rsproto.WriteError, the face's one error renderer).
func (f *face) middleware(next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := f.logins.CheckLicense(rsproto.BaseURL(r)); err != nil {
			return err
		}
		return next(w, r)
	}
}

// credentials is the credentials part of a broker body.
type credentials struct {
	User              string `json:"user"`
	Password          string `json:"password"`
	UserDomainName    string `json:"user_domain_name"`
	Token             string `json:"token"`
	AuthTenant        string `json:"auth_tenant"`
	ProjectDomainName string `json:"project_domain_name"`
	OTP               string `json:"otp"`
	Passcode          string `json:"passcode"`
}

// origin is where the request's credential comes from.
func origin(r *http.Request) login.Origin {
	return login.Origin{Face: Face, Source: httpx.RemoteIP(r)}
}

// headerToken is the token of Authorization: Bearer or X-Auth-Token.
func headerToken(r *http.Request) string {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	return r.Header.Get("X-Auth-Token")
}

// password is the body's password credential: a strict login, as Keystone's.
// The document's clients name the default domain "default", its id.
func (l credentials) password() login.PasswordLogin {
	in := login.PasswordLogin{UserName: l.User, Password: l.Password, DomainName: l.UserDomainName, Passcode: l.OTP, Strict: true}
	if strings.EqualFold(in.DomainName, core.DefaultDomainID) {
		in.DomainName, in.DomainID = "", core.DefaultDomainID
	}
	if in.Passcode == "" {
		in.Passcode = l.Passcode
	}
	return in
}

// token is the body's token credential: its token, or the header's when the
// body names no user.
func (l credentials) token(r *http.Request) string {
	if l.Token == "" && l.User == "" {
		return headerToken(r)
	}
	return l.Token
}

// authenticate logs the body's credentials in: its token, else its user and
// password, which open an API token when opens is set. It returns the request
// acting as the user.
func (f *face) authenticate(r *http.Request, l credentials, opens string) (*http.Request, *login.Login, error) {
	var lg *login.Login
	var err error
	if tok := l.token(r); tok != "" {
		lg, err = f.logins.LoginToken(r.Context(), core.TokenAPI, tok, origin(r))
	} else if l.User == "" || l.Password == "" {
		return nil, nil, core.Invalid("user", "user and password, or token, are required")
	} else {
		in := l.password()
		in.Opens = opens
		lg, err = f.logins.LoginPassword(r.Context(), in, origin(r))
	}
	if err != nil {
		return nil, nil, err
	}
	return r.WithContext(core.WithActor(r.Context(), lg.Actor)), lg, nil
}

// warn adds to out the password policy's warning to a password login.
func warn(r *http.Request, out map[string]any, l *login.Login) {
	if l.Notice != nil {
		out["warning"] = rsproto.WarningOf(r, l.Notice)
	}
}

// requestVM is POST /v1/request-vm/.
func (f *face) requestVM(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		credentials
		IPAddress string `json:"ip_address"`
		ConnType  string `json:"conn_type"`
		OS        string `json:"os"`
		Client    string `json:"client"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	in := handout.HandOutInput{Project: body.AuthTenant, ProjectDomain: body.ProjectDomainName,
		Session: session.SessionInput{ConnType: body.ConnType, ClientIP: body.IPAddress, ClientOS: body.OS, ClientInfo: body.Client}}
	if in.Session.ClientIP == "" {
		in.Session.ClientIP = httpx.RemoteIP(r)
	}
	if err := in.Check(); err != nil { // before the login opens a token
		return err
	}
	r, l, err := f.authenticate(r, body.credentials, core.TokenAPI)
	if err != nil {
		return err
	}
	t, err := f.svc.RequestMachine(r.Context(), in)
	if err != nil {
		return err
	}
	out := map[string]any{"request_id": t.ID}
	warn(r, out, l)
	tok := l.Secret // a password login's new token, or the one presented
	if tok == "" {
		tok = body.credentials.token(r)
	}
	w.Header().Set("X-Auth-Token", tok)
	rsproto.WriteJSON(w, http.StatusOK, out)
	return nil
}

// server is the machine as get-vm shows it.
type server struct {
	Status    string `json:"status"`
	VMState   string `json:"vm_state"`
	IP        string `json:"ip"`
	Progress  int    `json:"progress"`
	TaskState any    `json:"task_state"`
	ID        string `json:"id"`
}

// getVM is POST /v1/get-vm/: the caller is the token's user.
func (f *face) getVM(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Request string `json:"request"`
		Token   string `json:"token"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	if body.Request == "" {
		return core.Invalid("request", "request is required")
	}
	tok := body.Token
	if tok == "" {
		tok = headerToken(r)
	}
	l, err := f.logins.LoginToken(r.Context(), core.TokenAPI, tok, origin(r))
	if err != nil {
		return err
	}
	req, err := f.svc.GetHandOut(core.WithActor(r.Context(), l.Actor), body.Request)
	if err != nil {
		return err
	}
	out := map[string]any{"status": req.Status, "message": nil, "server": nil}
	if req.Message != "" {
		out["message"] = req.Message
	}
	if m := req.Machine; m != nil {
		status, vm, task, _ := rsproto.NovaState(m.State)
		out["server"] = server{Status: status, VMState: vm, IP: m.Address, TaskState: task, ID: m.ID}
	}
	rsproto.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getProjects is POST /v1/get-projects/.
func (f *face) getProjects(w http.ResponseWriter, r *http.Request) error {
	var body credentials
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	r, l, err := f.authenticate(r, body, "")
	if err != nil {
		return err
	}
	names, err := f.svc.UserPools(r.Context(), l.User.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"projects": names}
	warn(r, out, l)
	rsproto.WriteJSON(w, http.StatusOK, out)
	return nil
}

// serverRemoveUser is POST /v1/server-remove-user/: the user leaves a machine.
func (f *face) serverRemoveUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		credentials
		InstanceID string `json:"instance_id"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	if body.InstanceID == "" {
		return core.Invalid("instance_id", "instance_id is required")
	}
	r, l, err := f.authenticate(r, body.credentials, "")
	if err != nil {
		return err
	}
	if err := f.machines.LeaveMachine(r.Context(), body.InstanceID); err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]string{
		"message": fmt.Sprintf("User with user_id = %s was deleted from instance with instance_id = %s", l.User.ID, body.InstanceID)})
	return nil
}

// changePassword is POST /v1/change-password/.
func (f *face) changePassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		credentials
		NewPassword string `json:"new_password"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	if body.User == "" || body.Password == "" || body.NewPassword == "" {
		return core.Invalid("new_password", "user, password and new_password are required")
	}
	u, err := f.logins.ChangePassword(r.Context(), body.credentials.password(), body.NewPassword, origin(r))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]string{"message": fmt.Sprintf("Password successfully changed for user '%s'", u.Name)})
	return nil
}
