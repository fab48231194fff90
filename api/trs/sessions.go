package trs

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hostdeck/api/httpx"
	"hostdeck/api/rsproto"
	"hostdeck/core"
	"hostdeck/core/desktop/session"
)

// This file serves users' floating IPs (/v1/users/...), sessions (/v1/sessions/)
// and volume assignments (/v1/volume-assignments/).

// docTimeLayout is how the document writes times: "2018-10-31T12:59:43", UTC.
const docTimeLayout = "2006-01-02T15:04:05"

func docTimeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(docTimeLayout)
}

func emptyAsNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// --- users and floating IPs ---

func floatingView(userID string, ip *session.FloatingIP) map[string]any {
	v := map[string]any{"id": userID, "floating_ip_id": nil, "floating_ip_address": nil}
	if ip != nil {
		v["floating_ip_id"], v["floating_ip_address"] = ip.ID, ip.Address
	}
	return v
}

// listFloatingUsers is GET /v1/users/: the users that hold a floating IP.
func (f *face) listFloatingUsers(w http.ResponseWriter, r *http.Request) error {
	ips, _, err := f.sessions.ListFloatingIPs(r.Context(), core.Page{})
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ips))
	for i, ip := range ips {
		out[i] = floatingView(ip.UserID, ip)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// getFloatingUser is GET /v1/users/{user_id}: the user and its floating IP, as a
// one-element list under "user" as the document's example has it.
func (f *face) getFloatingUser(w http.ResponseWriter, r *http.Request) error {
	u, ip, err := f.sessions.UserFloatingIP(r.Context(), r.PathValue("user_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"user": []any{floatingView(u.ID, ip)}})
	return nil
}

// decodeFloatingIP reads the optional {"floating_ip_id": …} body: a UUID the
// floating IP takes as its id, or an address of the pool; no body lets hostdeck
// choose.
func decodeFloatingIP(r *http.Request) (session.FloatingIPRequest, error) {
	raw, err := httpx.ReadBody(r)
	if err != nil {
		return session.FloatingIPRequest{}, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return session.FloatingIPRequest{}, nil
	}
	var doc struct {
		FloatingIPID *string `json:"floating_ip_id"`
	}
	if err := rsproto.DecodeBytes(raw, &doc); err != nil {
		return session.FloatingIPRequest{}, err
	}
	if doc.FloatingIPID == nil {
		return session.FloatingIPRequest{}, nil
	}
	return session.FloatingIPRequest{Ref: *doc.FloatingIPID}, nil
}

// allocateFloatingIP is POST /v1/users/{user_id}/floating-ip.
func (f *face) allocateFloatingIP(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeFloatingIP(r)
	if err != nil {
		return err
	}
	if _, err := f.sessions.AllocateFloatingIP(r.Context(), r.PathValue("user_id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// changeFloatingIP is PUT /v1/users/{user_id}/floating-ip.
func (f *face) changeFloatingIP(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeFloatingIP(r)
	if err != nil {
		return err
	}
	if _, err := f.sessions.ChangeFloatingIP(r.Context(), r.PathValue("user_id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// releaseFloatingIP is DELETE /v1/users/{user_id}/floating-ip.
func (f *face) releaseFloatingIP(w http.ResponseWriter, r *http.Request) error {
	if err := f.sessions.ReleaseFloatingIP(r.Context(), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- sessions ---

// sessionView is a session as the document shows it. The connection type is
// under "connection" (the example) and "connection_type" (the parameter table).
func sessionView(s *session.Session) map[string]any {
	return map[string]any{
		"session_id": s.ID, "instance_id": s.InstanceID, "user_id": s.UserID, "user_name": s.UserName,
		"connection": emptyAsNull(s.ConnType), "connection_type": emptyAsNull(s.ConnType),
		"closed_at": docTimeOrNull(s.ClosedAt), "client_ip": emptyAsNull(s.ClientIP), "client_os": emptyAsNull(s.ClientOS),
		"client_info": emptyAsNull(s.ClientInfo), "created_at": s.CreatedAt.UTC().Format(docTimeLayout),
	}
}

// recordSession is POST /v1/sessions/: {"session": {"instance_id", "conn_type",
// "client_ip", "client_os", "client_info"}}, recorded for the token's user.
func (f *face) recordSession(w http.ResponseWriter, r *http.Request) error {
	var doc struct {
		Session *struct {
			InstanceID *string `json:"instance_id"`
			ConnType   *string `json:"conn_type"`
			ClientIP   *string `json:"client_ip"`
			ClientOS   *string `json:"client_os"`
			ClientInfo *string `json:"client_info"`
		} `json:"session"`
	}
	if err := rsproto.Decode(r, &doc); err != nil {
		return err
	}
	if doc.Session == nil {
		return core.Invalid("session", `the body must be {"session": {...}}`)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	b := doc.Session
	s, err := f.sessions.RecordSession(r.Context(), session.SessionInput{
		InstanceID: str(b.InstanceID), ConnType: str(b.ConnType), ClientIP: str(b.ClientIP),
		ClientOS: str(b.ClientOS), ClientInfo: str(b.ClientInfo),
	})
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"session": sessionView(s)})
	return nil
}

// queryCond parses a query parameter that takes modifiers; nil when absent.
func queryCond(r *http.Request, name string) (*core.Cond, error) {
	v := optionalQuery(r, name)
	if v == nil {
		return nil, nil
	}
	c, err := core.ParseModifier(*v)
	if err != nil {
		return nil, core.Invalid(name, "%s: %v", name, err)
	}
	return &c, nil
}

// parseDocTime reads a time as the document writes it, RFC 3339, or a date.
func parseDocTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, docTimeLayout, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, core.Invalid("created_at", "created_at %q is not a time like 2018-10-31T12:59:43", s)
}

// sessionFilter reads GET /v1/sessions/'s query: user_id, user_name, instance_id
// (with modifiers), instance_name, project_id, connection_type, last, and
// created_at bounds (gt:, gte:, lt:, lte:; the parameter may repeat).
func sessionFilter(r *http.Request) (session.SessionFilter, error) {
	var f session.SessionFilter
	var err error
	if f.UserID, err = queryCond(r, "user_id"); err != nil {
		return f, err
	}
	if f.UserName, err = queryCond(r, "user_name"); err != nil {
		return f, err
	}
	if f.InstanceID, err = queryCond(r, "instance_id"); err != nil {
		return f, err
	}
	f.InstanceName, f.ProjectID = optionalQuery(r, "instance_name"), optionalQuery(r, "project_id")
	f.ConnType = optionalQuery(r, "connection_type")
	if f.ConnType == nil {
		f.ConnType = optionalQuery(r, "conn_type")
	}
	if v := r.URL.Query().Get("last"); v != "" {
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return f, core.Invalid("last", "last must be true or false")
		}
		f.Last = b
	}
	for _, raw := range r.URL.Query()["created_at"] {
		c, err := core.ParseModifier(raw)
		if err != nil {
			return f, core.Invalid("created_at", "created_at: %v", err)
		}
		t, err := parseDocTime(c.Values[0])
		if err != nil {
			return f, err
		}
		switch c.Op {
		case core.OpGt:
			f.CreatedAt.GT = &t
		case core.OpGte:
			f.CreatedAt.GTE = &t
		case core.OpLt:
			f.CreatedAt.LT = &t
		case core.OpLte:
			f.CreatedAt.LTE = &t
		default:
			return f, core.Invalid("created_at", "created_at takes gt:, gte:, lt: or lte:")
		}
	}
	return f, nil
}

// listSessions is GET /v1/sessions/, newest first.
func (f *face) listSessions(w http.ResponseWriter, r *http.Request) error {
	filter, err := sessionFilter(r)
	if err != nil {
		return err
	}
	ss, _, err := f.sessions.ListSessions(r.Context(), filter)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ss))
	for i, s := range ss {
		out[i] = sessionView(s)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"sessions": out})
	return nil
}

// countSessions is GET /v1/sessions/count, with the list's filters.
func (f *face) countSessions(w http.ResponseWriter, r *http.Request) error {
	filter, err := sessionFilter(r)
	if err != nil {
		return err
	}
	n, err := f.sessions.CountSessions(r.Context(), filter)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"count": n})
	return nil
}

// --- volume assignments ---

func volumeView(a *core.VolumeAssignment) map[string]any {
	return map[string]any{"id": a.ID, "user_id": a.UserID, "project_id": a.ProjectID, "volume_id": a.VolumeID}
}

// assignmentID reads {assignment_id}; what is not a number names no assignment.
func assignmentID(r *http.Request) (int64, error) {
	raw := r.PathValue("assignment_id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, core.NotFound("volume assignment", raw)
	}
	return id, nil
}

// createVolumeAssignment is POST /v1/volume-assignments/: user_id, project_id and
// volume_id, flat as the document's example sends them (or under
// "volume-assignment").
func (f *face) createVolumeAssignment(w http.ResponseWriter, r *http.Request) error {
	type body struct {
		UserID    string `json:"user_id"`
		ProjectID string `json:"project_id"`
		VolumeID  string `json:"volume_id"`
	}
	var doc struct {
		body
		Wrapped *body `json:"volume-assignment"`
	}
	if err := rsproto.Decode(r, &doc); err != nil {
		return err
	}
	b := doc.body
	if doc.Wrapped != nil {
		b = *doc.Wrapped
	}
	a, err := f.svc.CreateVolumeAssignment(r.Context(), core.VolumeAssignment{UserID: b.UserID, ProjectID: b.ProjectID, VolumeID: b.VolumeID})
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"volume-assignment": volumeView(a)})
	return nil
}

// listVolumeAssignments is GET /v1/volume-assignments/ with user_id, project_id
// and volume_id (with modifiers).
func (f *face) listVolumeAssignments(w http.ResponseWriter, r *http.Request) error {
	var filter core.VolumeAssignmentFilter
	var err error
	if filter.UserID, err = queryCond(r, "user_id"); err != nil {
		return err
	}
	if filter.ProjectID, err = queryCond(r, "project_id"); err != nil {
		return err
	}
	if filter.VolumeID, err = queryCond(r, "volume_id"); err != nil {
		return err
	}
	as, _, err := f.svc.ListVolumeAssignments(r.Context(), filter)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(as))
	for i, a := range as {
		out[i] = volumeView(a)
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"volume-assignments": out})
	return nil
}

// getVolumeAssignment is GET /v1/volume-assignments/{assignment_id}.
func (f *face) getVolumeAssignment(w http.ResponseWriter, r *http.Request) error {
	id, err := assignmentID(r)
	if err != nil {
		return err
	}
	a, err := f.svc.GetVolumeAssignment(r.Context(), id)
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"volume-assignment": volumeView(a)})
	return nil
}

// deleteVolumeAssignment is DELETE /v1/volume-assignments/{assignment_id}.
func (f *face) deleteVolumeAssignment(w http.ResponseWriter, r *http.Request) error {
	id, err := assignmentID(r)
	if err != nil {
		return err
	}
	if err := f.svc.DeleteVolumeAssignment(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
