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
	svc *core.Service
	log *slog.Logger
}

// NewHandler returns the broker face over svc, with paths relative to its mount
// point.
func NewHandler(svc *core.Service, o Options) http.Handler {
	f := &face{svc: svc, log: httpx.Logger(o.Log)}
	rt := httpx.NewRouter(f.middleware)
	post := http.MethodPost
	rt.Handle(post, "/v1/request-vm", f.requestVM)
	rt.Handle(post, "/v1/get-vm", f.getVM)
	rt.Handle(post, "/v1/get-projects", f.getProjects)
	rt.Handle(post, "/v1/server-remove-user", f.serverRemoveUser)
	rt.Handle(post, "/v1/change-password", f.changePassword)
	return httpx.Serve(rt, httpx.Options{Face: Face, Log: o.Log, Metrics: o.Metrics, Registerer: o.Registerer, WriteError: rsproto.WriteError, Prefix: o.Prefix})
}

// middleware runs around every route (404 and 405 included): the caller is
// anonymous until its body's credentials say otherwise, and an ended licence
// stops the broker's work. Every error is answered in the TRS envelope
// (rsproto.WriteError, the face's one error renderer).
func (f *face) middleware(next httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := f.svc.CheckLicense(rsproto.BaseURL(r)); err != nil {
			return err
		}
		return next(w, r)
	}
}

// login is the credentials part of a broker body.
type login struct {
	User              string `json:"user"`
	Password          string `json:"password"`
	UserDomainName    string `json:"user_domain_name"`
	Token             string `json:"token"`
	AuthTenant        string `json:"auth_tenant"`
	ProjectDomainName string `json:"project_domain_name"`
	OTP               string `json:"otp"`
	Passcode          string `json:"passcode"`
}

// warn adds to out the password policy's warning for a password login.
func (f *face) warn(r *http.Request, out map[string]any, l login, u *core.User) {
	if l.Token != "" || l.User == "" || u == nil {
		return
	}
	if n := f.svc.PasswordNotice(u); n != nil {
		out["warning"] = rsproto.WarningOf(r, n)
	}
}

// headerToken is the token of Authorization: Bearer or X-Auth-Token.
func headerToken(r *http.Request) string {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	return r.Header.Get("X-Auth-Token")
}

func (l login) core(r *http.Request) core.BrokerLogin {
	in := core.BrokerLogin{User: l.User, Password: l.Password, Domain: l.UserDomainName, Token: l.Token,
		AuthTenant: l.AuthTenant, ProjectDomainName: l.ProjectDomainName, Source: httpx.RemoteIP(r), Passcode: l.OTP}
	if in.Passcode == "" {
		in.Passcode = l.Passcode
	}
	if in.Token == "" && in.User == "" {
		in.Token = headerToken(r)
	}
	return in
}

// actorCtx is the request's context acting as u.
func actorCtx(r *http.Request, u *core.User) *http.Request {
	a := core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: Face, Source: httpx.RemoteIP(r)}
	return r.WithContext(core.WithActor(r.Context(), a))
}

// requestVM is POST /v1/request-vm/.
func (f *face) requestVM(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		login
		IPAddress string `json:"ip_address"`
		ConnType  string `json:"conn_type"`
		OS        string `json:"os"`
		Client    string `json:"client"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	in := body.login.core(r)
	in.Session = core.SessionInput{ConnType: body.ConnType, ClientIP: body.IPAddress, ClientOS: body.OS, ClientInfo: body.Client}
	if in.Session.ClientIP == "" {
		in.Session.ClientIP = httpx.RemoteIP(r)
	}
	tk, err := f.svc.RequestVM(r.Context(), in)
	if err != nil {
		return err
	}
	out := map[string]any{"request_id": tk.RequestID}
	if tk.Notice != nil {
		out["warning"] = rsproto.WarningOf(r, tk.Notice)
	}
	w.Header().Set("X-Auth-Token", tk.Token)
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
	_, u, err := f.svc.ValidateToken(r.Context(), tok)
	if err != nil {
		return err
	}
	r = actorCtx(r, u)
	req, err := f.svc.GetVM(r.Context(), body.Request)
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

// authBody authenticates the user of a body that carries credentials.
func (f *face) authBody(r *http.Request, l login) (*http.Request, *core.User, error) {
	u, _, err := f.svc.BrokerAuth(r.Context(), l.core(r))
	if err != nil {
		return nil, nil, err
	}
	return actorCtx(r, u), u, nil
}

// getProjects is POST /v1/get-projects/.
func (f *face) getProjects(w http.ResponseWriter, r *http.Request) error {
	var body login
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	r, u, err := f.authBody(r, body)
	if err != nil {
		return err
	}
	names, err := f.svc.BrokerProjects(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"projects": names}
	f.warn(r, out, body, u)
	rsproto.WriteJSON(w, http.StatusOK, out)
	return nil
}

// serverRemoveUser is POST /v1/server-remove-user/: the user leaves a machine.
func (f *face) serverRemoveUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		login
		InstanceID string `json:"instance_id"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	if body.InstanceID == "" {
		return core.Invalid("instance_id", "instance_id is required")
	}
	r, u, err := f.authBody(r, body.login)
	if err != nil {
		return err
	}
	if err := f.svc.LeaveMachine(r.Context(), body.InstanceID); err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]string{
		"message": fmt.Sprintf("User with user_id = %s was deleted from instance with instance_id = %s", u.ID, body.InstanceID)})
	return nil
}

// changePassword is POST /v1/change-password/.
func (f *face) changePassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		login
		NewPassword string `json:"new_password"`
	}
	if err := rsproto.Decode(r, &body); err != nil {
		return err
	}
	if body.User == "" || body.Password == "" || body.NewPassword == "" {
		return core.Invalid("new_password", "user, password and new_password are required")
	}
	body.Token = ""
	u, err := f.svc.BrokerChangePassword(r.Context(), body.login.core(r), body.NewPassword)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]string{"message": fmt.Sprintf("Password successfully changed for user '%s'", u.Name)})
	return nil
}
