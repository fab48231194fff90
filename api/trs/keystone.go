package trs

import (
	"encoding/json"
	"net/http"
	"strings"

	"hostdeck/api/rsproto"
	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
)

// keystoneTime is how Keystone renders token times.
const keystoneTime = "2006-01-02T15:04:05.000000Z"

type ksRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type ksScopedRef struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Domain *ksRef `json:"domain,omitempty"`
}

type ksAuthRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *struct {
					ksScopedRef
					Password *string `json:"password"`
				} `json:"user"`
			} `json:"password"`
			// TOTP is Keystone's totp method: the second factor of a user
			// with a TOTP credential (hostdeck needs the password method too).
			TOTP *struct {
				User *struct {
					ksScopedRef
					Passcode *string `json:"passcode"`
				} `json:"user"`
			} `json:"totp"`
		} `json:"identity"`
		// Scope is an object ({"project": …}) or the string "unscoped".
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type ksScope struct {
	Project *ksScopedRef    `json:"project"`
	Domain  json.RawMessage `json:"domain"`
	System  json.RawMessage `json:"system"`
}

// version describes the identity API v3 as Keystone's discovery documents do.
func version(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []map[string]string{{"rel": "self", "href": rsproto.BaseURL(r) + "/v3/"}},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

// keystoneVersion is GET /v3, the version document keystoneauth's discovery reads
// when the auth URL ends in /v3.
func (f *face) keystoneVersion(w http.ResponseWriter, r *http.Request) error {
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"version": version(r)})
	return nil
}

// keystoneVersions is GET / (the face's root), the version list discovery reads
// when the auth URL has no version.
func (f *face) keystoneVersions(w http.ResponseWriter, r *http.Request) error {
	rsproto.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{version(r)}}})
	return nil
}

// issueToken is POST /v3/auth/tokens with the password method.
func (f *face) issueToken(w http.ResponseWriter, r *http.Request) error {
	var req ksAuthRequest
	if err := rsproto.Decode(r, &req); err != nil {
		return err
	}
	a := req.Auth
	if a == nil || a.Identity == nil {
		return core.Invalid("auth.identity", "auth.identity is required")
	}
	hasPassword, hasTOTP := false, false
	for _, m := range a.Identity.Methods {
		hasPassword = hasPassword || m == "password"
		hasTOTP = hasTOTP || m == "totp"
	}
	if !hasPassword || a.Identity.Password == nil || a.Identity.Password.User == nil {
		return core.Invalid("auth.identity.methods", "only the password method is supported: auth.identity.password.user is required")
	}
	u := a.Identity.Password.User
	if u.ID == "" && u.Name == "" {
		return core.Invalid("auth.identity.password.user", "the user needs an id or a name")
	}
	if u.Password == nil {
		return core.Invalid("auth.identity.password.user.password", "password is required")
	}
	tr := login.PasswordLogin{UserID: u.ID, UserName: u.Name, Password: *u.Password, Opens: core.TokenAPI}
	if hasTOTP {
		t := a.Identity.TOTP
		if t == nil || t.User == nil || t.User.Passcode == nil || *t.User.Passcode == "" {
			return core.Invalid("auth.identity.totp.user.passcode", "the totp method needs auth.identity.totp.user.passcode")
		}
		tr.Passcode = *t.User.Passcode
	}
	if u.Domain != nil {
		tr.DomainID, tr.DomainName = u.Domain.ID, u.Domain.Name
	} else if u.ID == "" {
		return core.Invalid("auth.identity.password.user.domain", "a user named by name needs a domain")
	}
	if len(a.Scope) > 0 && string(a.Scope) != "null" && string(a.Scope) != `"unscoped"` {
		var sc ksScope
		if err := rsproto.DecodeBytes(a.Scope, &sc); err != nil {
			return core.Invalid("auth.scope", "auth.scope must be an object or \"unscoped\"")
		}
		switch {
		case sc.Project != nil:
			p := sc.Project
			tr.Scope.ID, tr.Scope.Name = p.ID, p.Name
			if p.ID == "" {
				if p.Name == "" || p.Domain == nil {
					return core.Invalid("auth.scope.project", "a project scope needs an id, or a name and a domain")
				}
				tr.Scope.DomainID, tr.Scope.DomainName = p.Domain.ID, p.Domain.Name
			}
		case sc.Domain != nil || sc.System != nil:
			return core.Invalid("auth.scope", "only project scope is supported")
		}
	}
	l, err := f.logins.LoginPassword(r.Context(), tr, origin(r))
	if err != nil {
		return err
	}
	body, err := f.tokenBody(r, l.Token, l.User)
	if err != nil {
		return err
	}
	// A password about to expire, or logging in on a grace login, is told so
	// beside the token (codes 19 and 20), as the broker does.
	if l.Notice != nil {
		body["warning"] = rsproto.WarningOf(r, l.Notice)
	}
	w.Header().Set("X-Subject-Token", l.Secret)
	rsproto.WriteJSON(w, http.StatusCreated, body)
	return nil
}

// tokenBody renders a token of u as Keystone does.
func (f *face) tokenBody(r *http.Request, t *core.Token, u *core.User) (map[string]any, error) {
	ctx := r.Context()
	d, err := f.svc.Domain(ctx, u.DomainID)
	if err != nil {
		return nil, err
	}
	tok := map[string]any{
		"methods":    t.Methods,
		"user":       map[string]any{"id": u.ID, "name": u.Name, "domain": ksRef{ID: d.ID, Name: d.Name}, "password_expires_at": f.passwordExpiresAt(u)},
		"audit_ids":  []string{t.ID},
		"expires_at": t.ExpiresAt.UTC().Format(keystoneTime),
		"issued_at":  t.IssuedAt.UTC().Format(keystoneTime),
		"catalog":    catalog(r),
	}
	if p := t.Project; p != nil {
		def, err := f.svc.Domain(ctx, core.DefaultDomainID)
		if err != nil {
			return nil, err
		}
		tok["project"] = ksScopedRef{ID: p.ID, Name: p.Name, Domain: &ksRef{ID: def.ID, Name: def.Name}}
		tok["is_domain"] = false
		roles := make([]ksRef, len(t.Roles))
		for i, role := range t.Roles {
			roles[i] = ksRef{ID: string(role), Name: string(role)}
		}
		tok["roles"] = roles
	}
	return map[string]any{"token": tok}, nil
}

// catalog lists this face as the identity service, so that clients which look
// the identity endpoint up in the catalog (openstacksdk) find it.
func catalog(r *http.Request) []map[string]any {
	url := rsproto.BaseURL(r) + "/v3"
	var eps []map[string]string
	for _, iface := range []string{"public", "internal", "admin"} {
		eps = append(eps, map[string]string{"id": "identity-" + iface, "interface": iface, "region": "RegionOne", "region_id": "RegionOne", "url": url})
	}
	return []map[string]any{{"id": "identity", "type": "identity", "name": "keystone", "endpoints": eps}}
}

// checkToken is GET (and HEAD) /v3/auth/tokens: the X-Subject-Token's body.
func (f *face) checkToken(w http.ResponseWriter, r *http.Request) error {
	t, u, err := f.logins.InspectToken(r.Context(), r.Header.Get("X-Subject-Token"))
	if err != nil {
		return err
	}
	body, err := f.tokenBody(r, t, u)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, body)
	return nil
}

// revokeToken is DELETE /v3/auth/tokens.
func (f *face) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := f.logins.RevokeToken(r.Context(), r.Header.Get("X-Subject-Token")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ksUserIn is the body of user creation and update.
type ksUserIn struct {
	User *struct {
		Name     *string `json:"name"`
		Password *string `json:"password"`
		Email    *string `json:"email"`
		DomainID *string `json:"domain_id"`
		Enabled  *bool   `json:"enabled"`
		// Role is a hostdeck extension: "admin" makes a hostdeck administrator.
		Role *string `json:"role"`
	} `json:"user"`
}

func (in ksUserIn) input() (identity.UserInput, error) {
	if in.User == nil {
		return identity.UserInput{}, core.Invalid("user", "a user object is required")
	}
	u := in.User
	ui := identity.UserInput{Name: u.Name, Password: u.Password, Email: u.Email, DomainID: u.DomainID, Enabled: u.Enabled}
	if u.Role != nil {
		ui.Role = (*core.Role)(u.Role)
	}
	return ui, nil
}

// passwordExpiresAt is Keystone's password_expires_at: the time, or null.
func (f *face) passwordExpiresAt(u *core.User) any {
	if at := f.logins.PasswordExpiresAt(u); at != nil {
		return at.Format(keystoneTime)
	}
	return nil
}

func (f *face) userBody(r *http.Request, u *core.User) map[string]any {
	b := map[string]any{
		"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": !u.Disabled,
		"password_expires_at": f.passwordExpiresAt(u), "options": map[string]any{},
		"links": map[string]string{"self": rsproto.BaseURL(r) + "/v3/users/" + u.ID},
	}
	if u.Email != "" {
		b["email"] = u.Email
	}
	return b
}

func listLinks(r *http.Request) map[string]any {
	return map[string]any{"self": rsproto.BaseURL(r) + r.URL.Path, "previous": nil, "next": nil}
}

func (f *face) createUser(w http.ResponseWriter, r *http.Request) error {
	var in ksUserIn
	if err := rsproto.Decode(r, &in); err != nil {
		return err
	}
	ui, err := in.input()
	if err != nil {
		return err
	}
	u, err := f.users.CreateUser(r.Context(), ui)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusCreated, map[string]any{"user": f.userBody(r, u)})
	return nil
}

// optionalQuery reads a query parameter; nil when absent.
func optionalQuery(r *http.Request, name string) *string {
	if v, ok := r.URL.Query()[name]; ok && len(v) > 0 {
		return &v[0]
	}
	return nil
}

func (f *face) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, _, err := f.users.ListUsers(r.Context(), core.UserFilter{Name: optionalQuery(r, "name"), DomainID: optionalQuery(r, "domain_id")})
	if err != nil {
		return err
	}
	return f.writeUsers(w, r, users)
}

// writeUsers answers with a Keystone user list.
func (f *face) writeUsers(w http.ResponseWriter, r *http.Request, users []*core.User) error {
	out := make([]map[string]any, len(users))
	for i, u := range users {
		out[i] = f.userBody(r, u)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"users": out, "links": listLinks(r)})
	return nil
}

func (f *face) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := f.users.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"user": f.userBody(r, u)})
	return nil
}

func (f *face) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in ksUserIn
	if err := rsproto.Decode(r, &in); err != nil {
		return err
	}
	ui, err := in.input()
	if err != nil {
		return err
	}
	u, err := f.users.UpdateUser(r.Context(), r.PathValue("id"), ui)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"user": f.userBody(r, u)})
	return nil
}

func (f *face) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := f.users.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func groupBody(r *http.Request, g *core.Group) map[string]any {
	return map[string]any{
		"id": g.ID, "name": g.Name, "domain_id": g.DomainID, "description": g.Description,
		"links": map[string]string{"self": rsproto.BaseURL(r) + "/v3/groups/" + g.ID},
	}
}

func (f *face) createGroup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Group *struct {
			Name        *string `json:"name"`
			Description *string `json:"description"`
			DomainID    *string `json:"domain_id"`
		} `json:"group"`
	}
	if err := rsproto.Decode(r, &in); err != nil {
		return err
	}
	if in.Group == nil {
		return core.Invalid("group", "a group object is required")
	}
	g, err := f.users.CreateGroup(r.Context(), identity.GroupInput{Name: in.Group.Name, Description: in.Group.Description, DomainID: in.Group.DomainID})
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusCreated, map[string]any{"group": groupBody(r, g)})
	return nil
}

func (f *face) listGroups(w http.ResponseWriter, r *http.Request) error {
	groups, _, err := f.users.ListGroups(r.Context(), core.GroupFilter{Name: optionalQuery(r, "name"), DomainID: optionalQuery(r, "domain_id")})
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(groups))
	for i, g := range groups {
		out[i] = groupBody(r, g)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"groups": out, "links": listLinks(r)})
	return nil
}

func (f *face) listGroupUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := f.users.GroupMembers(r.Context(), r.PathValue("g"))
	if err != nil {
		return err
	}
	return f.writeUsers(w, r, users)
}

func (f *face) addGroupUser(w http.ResponseWriter, r *http.Request) error {
	if err := f.users.AddGroupMember(r.Context(), r.PathValue("g"), r.PathValue("u")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (f *face) removeGroupUser(w http.ResponseWriter, r *http.Request) error {
	if err := f.users.RemoveGroupMember(r.Context(), r.PathValue("g"), r.PathValue("u")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// roles are hostdeck's two roles; each role's id is its name.
var roles = []core.Role{core.RoleAdmin, core.RoleMember}

func (f *face) listRoles(w http.ResponseWriter, r *http.Request) error {
	out := make([]map[string]any, len(roles))
	for i, role := range roles {
		out[i] = map[string]any{"id": string(role), "name": string(role), "domain_id": nil,
			"links": map[string]string{"self": rsproto.BaseURL(r) + "/v3/roles/" + string(role)}}
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"roles": out, "links": listLinks(r)})
	return nil
}

// grantRole is PUT /v3/projects/{p}/users/{u}/roles/{r}; r is a role's name or id,
// in any case ("_member_", Keystone's old name, is member).
func (f *face) grantRole(w http.ResponseWriter, r *http.Request) error {
	role := core.Role(strings.ToLower(r.PathValue("r")))
	if role == "_member_" {
		role = core.RoleMember
	}
	if err := f.users.GrantProjectRole(r.Context(), r.PathValue("p"), r.PathValue("u"), role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maskedBlob stands for a credential's secret, which hostdeck never returns
// (Keystone does).
const maskedBlob = "******"

func credentialBody(r *http.Request, c *core.Credential) map[string]any {
	return map[string]any{
		"id": c.ID, "user_id": c.UserID, "type": c.Type, "blob": maskedBlob, "project_id": nil,
		"links": map[string]string{"self": rsproto.BaseURL(r) + "/v3/credentials/" + c.ID},
	}
}

// createCredential is POST /v3/credentials: a TOTP secret for a user (admins,
// or the user itself).
func (f *face) createCredential(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Credential *struct {
			Type   string `json:"type"`
			UserID string `json:"user_id"`
			Blob   string `json:"blob"`
		} `json:"credential"`
	}
	if err := rsproto.Decode(r, &in); err != nil {
		return err
	}
	if in.Credential == nil {
		return core.Invalid("credential", "a credential object is required")
	}
	c := in.Credential
	cred, err := f.logins.CreateCredential(r.Context(), login.CredentialInput{UserID: c.UserID, Type: c.Type, Blob: c.Blob})
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusCreated, map[string]any{"credential": credentialBody(r, cred)})
	return nil
}

// listCredentials is GET /v3/credentials: ?user_id=, ?type=; members see their own.
func (f *face) listCredentials(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cs, err := f.logins.ListCredentials(r.Context(), q.Get("user_id"), q.Get("type"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(cs))
	for i, c := range cs {
		out[i] = credentialBody(r, c)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"credentials": out, "links": listLinks(r)})
	return nil
}

func (f *face) getCredential(w http.ResponseWriter, r *http.Request) error {
	c, err := f.logins.GetCredential(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"credential": credentialBody(r, c)})
	return nil
}

func (f *face) deleteCredential(w http.ResponseWriter, r *http.Request) error {
	if err := f.logins.DeleteCredential(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isOwnPasswordChange reports whether path is /v3/users/{id}/password, which
// Keystone serves without a token so that an expired password can be changed.
func isOwnPasswordChange(path string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(path, "/"), "/v3/users/")
	id, tail, _ := strings.Cut(rest, "/")
	return ok && id != "" && tail == "password"
}

// changeOwnPassword is POST /v3/users/{id}/password:
// {"user": {"password": new, "original_password": current}}; 204.
func (f *face) changeOwnPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		User *struct {
			Password         *string `json:"password"`
			OriginalPassword *string `json:"original_password"`
		} `json:"user"`
	}
	if err := rsproto.Decode(r, &in); err != nil {
		return err
	}
	if in.User == nil || in.User.Password == nil || in.User.OriginalPassword == nil {
		return core.Invalid("user", "user.password and user.original_password are required")
	}
	current := login.PasswordLogin{UserID: r.PathValue("id"), Password: *in.User.OriginalPassword}
	if _, err := f.logins.ChangePassword(r.Context(), current, *in.User.Password, origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
