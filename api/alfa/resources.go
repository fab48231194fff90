package alfa

import (
	"encoding/json"
	"net/http"
	"time"

	"hostdeck/api/alfa/jsonapi"
	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/core/fleet"
)

// Resource types.
const (
	typeServers      = "servers"
	typeClients      = "clients"
	typeTasks        = "tasks"
	typeAudit        = "audit-events"
	typeExpireChange = "expire-changes"
	typeCredentials  = "credentials"
)

// stamp renders a time as RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func stampPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// date renders a date as "YYYY-MM-DD"; nil is null.
func date(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.DateOnly)
	return &s
}

type serverAttrs struct {
	Name      string     `json:"name"`
	Address   string     `json:"address"`
	Runtime   string     `json:"runtime"`
	Capacity  int        `json:"capacity"`
	Location  string     `json:"location"`
	Status    string     `json:"status"`
	CreatedAt string     `json:"created_at"`
	UpdatedAt string     `json:"updated_at"`
	Load      *loadAttrs `json:"load,omitempty"`
}

type loadAttrs struct {
	Reachable     bool    `json:"reachable"`
	Error         *string `json:"error"`
	CPUPercent    float64 `json:"cpu_percent"`
	MemoryUsed    uint64  `json:"memory_used"`
	MemoryTotal   uint64  `json:"memory_total"`
	Instances     int     `json:"instances"`
	Capacity      int     `json:"capacity"`
	Clients       int     `json:"clients"`
	LastHeartbeat *string `json:"last_heartbeat"`
	CheckedAt     string  `json:"checked_at"`
}

func serverResource(r *http.Request, s *core.Server) *jsonapi.Resource {
	return &jsonapi.Resource{
		Type: typeServers, ID: s.ID,
		Attributes: serverAttrs{
			Name: s.Name, Address: s.Address, Runtime: s.Runtime, Capacity: s.Capacity,
			Location: s.Location, Status: string(s.Status),
			CreatedAt: stamp(s.CreatedAt), UpdatedAt: stamp(s.UpdatedAt),
		},
		Links: jsonapi.Links{"self": httpx.URLPath(r, "/servers/"+s.ID)},
	}
}

func serverDetailResource(r *http.Request, d *fleet.ServerDetail) *jsonapi.Resource {
	res := serverResource(r, d.Server)
	a := res.Attributes.(serverAttrs)
	l := &loadAttrs{
		Reachable: d.Load.Reachable, CPUPercent: d.Load.CPUPercent,
		MemoryUsed: d.Load.MemoryUsed, MemoryTotal: d.Load.MemoryTotal,
		Instances: d.Load.Instances, Capacity: d.Capacity, Clients: d.Clients,
		LastHeartbeat: stampPtr(d.LastSeenAt), CheckedAt: stamp(d.Load.CheckedAt),
	}
	if d.Load.Error != "" {
		l.Error = &d.Load.Error
	}
	a.Load = l
	res.Attributes = a
	return res
}

type clientAttrs struct {
	Name       string  `json:"name"`
	Email      string  `json:"email"`
	Phone      string  `json:"phone"`
	Lang       string  `json:"lang"`
	Status     string  `json:"status"`
	ServerID   string  `json:"server_id"`
	ExpireDate *string `json:"expire_date"`
	Demo       bool    `json:"demo"`
	URL        string  `json:"url"`
	Available  bool    `json:"available"`
	OwnerLogin string  `json:"owner_login"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
}

// clientResource renders a client; available is whether its cloud answers.
func clientResource(r *http.Request, c *core.Client, available bool) *jsonapi.Resource {
	res := &jsonapi.Resource{
		Type: typeClients, ID: c.ID,
		Attributes: clientAttrs{
			Name: c.Name, Email: c.Email, Phone: c.Phone, Lang: c.Lang, Status: string(c.Status),
			ServerID: c.ServerID, ExpireDate: date(c.ExpireDate), Demo: c.Demo, URL: c.URL,
			Available: available, OwnerLogin: c.OwnerLogin,
			CreatedAt: stamp(c.CreatedAt), UpdatedAt: stamp(c.UpdatedAt),
		},
		Relationships: map[string]jsonapi.Relationship{"server": {}},
		Links:         jsonapi.Links{"self": httpx.URLPath(r, "/clients/"+c.ID)},
	}
	if c.ServerID != "" {
		res.Relationships["server"] = jsonapi.Relationship{
			Data:  &jsonapi.Identifier{Type: typeServers, ID: c.ServerID},
			Links: jsonapi.Links{"related": httpx.URLPath(r, "/servers/"+c.ServerID)},
		}
	}
	return res
}

func clientViewResource(r *http.Request, v *cloud.ClientView) *jsonapi.Resource {
	return clientResource(r, v.Client, v.Available)
}

type taskAttrs struct {
	Kind            string          `json:"kind"`
	Status          string          `json:"status"`
	Progress        int             `json:"progress"`
	Message         string          `json:"message"`
	Result          json.RawMessage `json:"result"`
	Error           string          `json:"error"`
	Attempts        int             `json:"attempts"`
	CancelRequested bool            `json:"cancel_requested"`
	Creator         string          `json:"creator"`
	TargetType      string          `json:"target_type"`
	TargetID        string          `json:"target_id"`
	CreatedAt       string          `json:"created_at"`
	StartedAt       *string         `json:"started_at"`
	FinishedAt      *string         `json:"finished_at"`
}

func taskResource(r *http.Request, t *core.Task) *jsonapi.Resource {
	result := t.Result
	if len(result) == 0 || !json.Valid(result) {
		result = json.RawMessage("null")
	}
	res := &jsonapi.Resource{
		Type: typeTasks, ID: t.ID,
		Attributes: taskAttrs{
			Kind: t.Kind, Status: string(t.Status), Progress: t.Progress, Message: t.Message,
			Result: result, Error: t.Error, Attempts: t.Attempts, CancelRequested: t.CancelRequested,
			Creator: t.Creator, TargetType: t.TargetType, TargetID: t.TargetID,
			CreatedAt: stamp(t.CreatedAt), StartedAt: stampPtr(t.StartedAt), FinishedAt: stampPtr(t.FinishedAt),
		},
		Links: jsonapi.Links{"self": httpx.URLPath(r, "/tasks/"+t.ID)},
	}
	// The target as a relationship gives a compound document (a created client in
	// "included") the full linkage JSON:API requires.
	if typ, path := targetOf(t.TargetType); typ != "" && t.TargetID != "" {
		res.Relationships = map[string]jsonapi.Relationship{"target": {
			Data:  &jsonapi.Identifier{Type: typ, ID: t.TargetID},
			Links: jsonapi.Links{"related": httpx.URLPath(r, path+t.TargetID)},
		}}
	}
	return res
}

// targetOf is the resource type and path of a task's target type.
func targetOf(targetType string) (typ, path string) {
	switch targetType {
	case "client":
		return typeClients, "/clients/"
	case "server":
		return typeServers, "/servers/"
	}
	return "", ""
}

type auditAttrs struct {
	At         string          `json:"at"`
	Actor      string          `json:"actor"`
	Face       string          `json:"face"`
	Source     string          `json:"source"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Detail     json.RawMessage `json:"detail"`
}

func auditResource(e *core.AuditEvent) *jsonapi.Resource {
	detail := e.Detail
	if len(detail) == 0 || !json.Valid(detail) {
		detail = json.RawMessage("null")
	}
	return &jsonapi.Resource{
		Type: typeAudit, ID: e.ID,
		Attributes: auditAttrs{
			At: stamp(e.At), Actor: e.Actor, Face: e.Face, Source: e.Source, Action: e.Action,
			TargetType: e.TargetType, TargetID: e.TargetID, Detail: detail,
		},
	}
}

type expireChangeAttrs struct {
	Old    *string `json:"old"`
	New    *string `json:"new"`
	Actor  string  `json:"actor"`
	Source string  `json:"source"`
	At     string  `json:"at"`
}

func expireChangeResource(c *core.ExpireChange) *jsonapi.Resource {
	return &jsonapi.Resource{
		Type: typeExpireChange, ID: c.ID,
		Attributes: expireChangeAttrs{Old: date(c.Old), New: date(c.New), Actor: c.Actor, Source: c.Source, At: stamp(c.At)},
	}
}

// one writes a single resource as primary data.
func one(w http.ResponseWriter, status int, res *jsonapi.Resource) error {
	jsonapi.Write(w, status, &jsonapi.Document{Data: res})
	return nil
}

// many writes a page of a collection with its links and total.
func many(w http.ResponseWriter, r *http.Request, q jsonapi.ListQuery, total int, data []*jsonapi.Resource) error {
	if data == nil {
		data = []*jsonapi.Resource{}
	}
	links, meta := jsonapi.ListLinks(r, q, total)
	jsonapi.Write(w, http.StatusOK, &jsonapi.Document{Data: data, Links: links, Meta: meta})
	return nil
}

// accepted answers 202 with the task as primary data and Location pointing at it.
func accepted(w http.ResponseWriter, r *http.Request, t *core.Task, included ...*jsonapi.Resource) error {
	loc := httpx.URLPath(r, "/tasks/"+t.ID)
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Location", loc)
	jsonapi.Write(w, http.StatusAccepted, &jsonapi.Document{Data: taskResource(r, t), Included: included})
	return nil
}
