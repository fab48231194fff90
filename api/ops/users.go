package ops

import (
	"context"
	"net/http"
	"net/url"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
)

// Users (rows 98–106) are hostdeck's users; roles (rows 107–112) are its
// groups, whose grants reach their members.

// userBody is the User object.
type userBody struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Status   string `json:"status"`
}

func userOf(u *core.User) userBody {
	status := "enabled"
	if u.Disabled {
		status = "disabled"
	}
	return userBody{ID: u.Number, Username: u.Name, Email: u.Email, Phone: u.Phone, Status: status}
}

func usersOf(us []*core.User) []userBody {
	out := make([]userBody, len(us))
	for i, u := range us {
		out[i] = userOf(u)
	}
	return out
}

// roleBody is the role object.
type roleBody struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Creator string `json:"creator"`
}

func roleOf(g *core.Group) roleBody { return roleBody{ID: g.Number, Name: g.Name, Creator: g.Creator} }

func (f *face) user(r *http.Request) (*core.User, error) {
	n, err := pathID(r, "user")
	if err != nil {
		return nil, err
	}
	return f.Identity.GetUserByNumber(r.Context(), n)
}

func (f *face) role(r *http.Request) (*core.Group, error) {
	n, err := pathID(r, "role")
	if err != nil {
		return nil, err
	}
	return f.Identity.GetGroupByNumber(r.Context(), n)
}

func (f *face) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	p, num, size, err := q.page()
	if err != nil {
		return err
	}
	fl := core.UserFilter{Page: p}
	if fl.Name, err = q.str("username", "name"); err != nil {
		return err
	}
	if fl.Email, err = q.str("email"); err != nil {
		return err
	}
	if fl.Phone, err = q.str("phone", "mobile"); err != nil {
		return err
	}
	status, err := q.str("status")
	if err != nil {
		return err
	}
	if status != nil {
		switch *status {
		case "enabled", "disabled":
			d := *status == "disabled"
			fl.Disabled = &d
		default:
			return invalid("status must be enabled or disabled, not %q", *status)
		}
	}
	us, total, err := f.Identity.ListUsers(r.Context(), fl)
	if err != nil {
		return err
	}
	writeList(w, r, num, size, total, usersOf(us))
	return nil
}

// userInput is the body of creating (an extension) or changing a user.
type userInput struct {
	Username *string `json:"username"`
	Email    *string `json:"email"`
	Phone    *string `json:"phone"`
	Mobile   *string `json:"mobile"`
	Password *string `json:"password"`
	Status   *string `json:"status"`
}

func (in userInput) identity() (identity.UserInput, error) {
	out := identity.UserInput{Name: in.Username, Email: in.Email, Phone: in.Phone, Password: in.Password}
	if out.Phone == nil {
		out.Phone = in.Mobile
	}
	if in.Status != nil {
		switch *in.Status {
		case "enabled", "disabled":
			e := *in.Status == "enabled"
			out.Enabled = &e
		default:
			return out, invalid("status must be enabled or disabled, not %q", *in.Status)
		}
	}
	return out, nil
}

func (f *face) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ui, err := in.identity()
	if err != nil {
		return err
	}
	u, err := f.Identity.CreateUser(r.Context(), ui)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, userOf(u))
	return nil
}

func (f *face) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := f.user(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOf(u))
	return nil
}

func (f *face) updateUser(w http.ResponseWriter, r *http.Request) error {
	u, err := f.user(r)
	if err != nil {
		return err
	}
	var in userInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Password != nil {
		return invalid("a password is changed by POST /users/{id}/actions/change-password/")
	}
	ui, err := in.identity()
	if err != nil {
		return err
	}
	u, err = f.Identity.UpdateUser(r.Context(), u.ID, ui)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOf(u))
	return nil
}

func (f *face) deleteUser(w http.ResponseWriter, r *http.Request) error {
	u, err := f.user(r)
	if err != nil {
		return err
	}
	if err := f.Identity.DeleteUser(r.Context(), u.ID); err != nil {
		return err
	}
	return success(w)
}

func (f *face) enableUser(enabled bool) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := f.user(r)
		if err != nil {
			return err
		}
		if _, err := f.Identity.UpdateUser(r.Context(), u.ID, identity.UserInput{Enabled: &enabled}); err != nil {
			return err
		}
		return success(w)
	}
}

func (f *face) userRoles(w http.ResponseWriter, r *http.Request) error {
	u, err := f.user(r)
	if err != nil {
		return err
	}
	gs, err := f.Identity.UserGroups(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]roleBody, len(gs))
	for i, g := range gs {
		out[i] = roleOf(g)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// memberships adds or removes the user of the path to or from the roles of
// the body.
func (f *face) memberships(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, groupID, userID string) error) error {
	u, err := f.user(r)
	if err != nil {
		return err
	}
	ns, err := decodeRefs(r)
	if err != nil {
		return err
	}
	groups := make([]*core.Group, len(ns))
	for i, n := range ns {
		if groups[i], err = f.Identity.GetGroupByNumber(r.Context(), n); err != nil {
			return err
		}
	}
	for _, g := range groups {
		if err := change(r.Context(), g.ID, u.ID); err != nil {
			return err
		}
	}
	return success(w)
}

func (f *face) addUserRoles(w http.ResponseWriter, r *http.Request) error {
	return f.memberships(w, r, f.Identity.AddGroupMember)
}

func (f *face) removeUserRoles(w http.ResponseWriter, r *http.Request) error {
	return f.memberships(w, r, f.Identity.RemoveGroupMember)
}

// 300001 is change-password's "original password is wrong", 400 as documented.
var errWrongPassword = &codeError{status: http.StatusBadRequest, code: 300001, en: "the original password is wrong", zh: "原始密码错误"}

func (f *face) changePassword(w http.ResponseWriter, r *http.Request) error {
	u, err := f.user(r)
	if err != nil {
		return err
	}
	var in struct {
		Original *string `json:"original_password"`
		New      *string `json:"new_password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Original == nil || in.New == nil {
		return invalid("original_password and new_password are required")
	}
	err = f.Login.ChangeOwnPassword(r.Context(), u.ID, *in.Original, *in.New, origin(r))
	if core.ErrorReason(err) == login.ReasonWrongPassword {
		return errWrongPassword
	}
	if err != nil {
		return err
	}
	return success(w)
}

// forgetPassword e-mails the user of the address a link to set a new
// password; it answers the same whether or not the address is known, and
// whatever the path's id (the e-mail decides).
func (f *face) forgetPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email *string `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Email == nil || *in.Email == "" {
		return invalid("email is required")
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	link := func(secret string) string {
		return scheme + r.Host + httpx.URLPath(r, "/users/actions/reset-password/") + "?token=" + url.QueryEscape(secret)
	}
	if err := f.Login.ForgetPassword(r.Context(), *in.Email, link, origin(r)); err != nil {
		return err
	}
	return success(w)
}

// resetPassword (an extension) sets a new password with the secret of the
// link forget-password sent.
func (f *face) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    *string `json:"token"`
		Password *string `json:"new_password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Token == nil || in.Password == nil {
		return invalid("token and new_password are required")
	}
	if err := f.Login.ResetPassword(r.Context(), *in.Token, *in.Password, origin(r)); err != nil {
		return err
	}
	return success(w)
}

func origin(r *http.Request) login.Origin { return login.Origin{Face: Face, Source: httpx.RemoteIP(r)} }

func (f *face) listRoles(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	p, num, size, err := q.page()
	if err != nil {
		return err
	}
	fl := core.GroupFilter{Page: p}
	if fl.Name, err = q.str("name"); err != nil {
		return err
	}
	gs, total, err := f.Identity.ListGroups(r.Context(), fl)
	if err != nil {
		return err
	}
	out := make([]roleBody, len(gs))
	for i, g := range gs {
		out[i] = roleOf(g)
	}
	writeList(w, r, num, size, total, out)
	return nil
}

type roleInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (f *face) createRole(w http.ResponseWriter, r *http.Request) error {
	var in roleInput
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := f.Identity.CreateGroup(r.Context(), identity.GroupInput{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, roleOf(g))
	return nil
}

func (f *face) getRole(w http.ResponseWriter, r *http.Request) error {
	g, err := f.role(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, roleOf(g))
	return nil
}

func (f *face) updateRole(w http.ResponseWriter, r *http.Request) error {
	g, err := f.role(r)
	if err != nil {
		return err
	}
	var in roleInput
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err = f.Identity.UpdateGroup(r.Context(), g.ID, identity.GroupInput{Name: in.Name, Description: in.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, roleOf(g))
	return nil
}

func (f *face) deleteRole(w http.ResponseWriter, r *http.Request) error {
	g, err := f.role(r)
	if err != nil {
		return err
	}
	if err := f.Identity.DeleteGroup(r.Context(), g.ID); err != nil {
		return err
	}
	return success(w)
}

// roleUsers is a bare array of User objects, not a page (as documented).
func (f *face) roleUsers(w http.ResponseWriter, r *http.Request) error {
	g, err := f.role(r)
	if err != nil {
		return err
	}
	us, err := f.Identity.GroupMembers(r.Context(), g.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, usersOf(us))
	return nil
}

func (f *face) members(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, groupID, userID string) error) error {
	g, err := f.role(r)
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
	for _, id := range ids {
		if err := change(r.Context(), g.ID, id); err != nil {
			return err
		}
	}
	return success(w)
}

func (f *face) addRoleUsers(w http.ResponseWriter, r *http.Request) error {
	return f.members(w, r, f.Identity.AddGroupMember)
}

func (f *face) removeRoleUsers(w http.ResponseWriter, r *http.Request) error {
	return f.members(w, r, f.Identity.RemoveGroupMember)
}
