package core

import (
	"encoding/json"
	"time"
)

// ServerStatus says whether a server takes new instances.
type ServerStatus string

const (
	ServerActive   ServerStatus = "active"   // takes new clients and instances
	ServerDisabled ServerStatus = "disabled" // keeps what it runs, takes nothing new
)

// ServerStatuses are the values a ServerStatus takes.
var ServerStatuses = []ServerStatus{ServerActive, ServerDisabled}

// Server is a machine of the fleet: where instances run, through one runtime.
// Address is the runtime endpoint (a Docker host such as unix:///var/run/docker.sock;
// empty means the runtime's default) and also the host name clients' URLs use.
type Server struct {
	ID         string       `json:"id"`
	Number     int64        `json:"number"` // its numeric id (Numbers)
	Name       string       `json:"name"`
	Address    string       `json:"address"`
	Runtime    string       `json:"runtime"`
	Capacity   int          `json:"capacity"` // how many instances it may hold
	Location   string       `json:"location"`
	Status     ServerStatus `json:"status"`
	LastSeenAt *time.Time   `json:"last_seen_at,omitempty"` // last successful load probe (heartbeat)
	// What the server is as a host of a CMDB: what kind of machine (a label,
	// e.g. a cloud's instance type or bare metal), where it is in its life as a
	// host, its operating system, CPUs, memory, a description, addresses.
	Kind        string        `json:"kind"`
	Stage       ServerStage   `json:"stage"`
	OSType      string        `json:"os_type"`
	CPUs        int           `json:"cpus"`
	MemoryMB    int64         `json:"memory_mb"`
	Description string        `json:"description"`
	Addresses   []HostAddress `json:"addresses"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// ServerStage is where a server is in its life as a host: added (raw),
// initialised (inited: its system read and its host key pinned), holding
// applications (attached), or taken out of service (offline).
type ServerStage string

const (
	StageRaw      ServerStage = "raw"
	StageInited   ServerStage = "inited"
	StageAttached ServerStage = "attached"
	StageOffline  ServerStage = "offline"
)

// ServerStages are the values a ServerStage takes.
var ServerStages = []ServerStage{StageRaw, StageInited, StageAttached, StageOffline}

// HostAddress is one of a host's network addresses.
type HostAddress struct {
	Address string `json:"address"`
	Public  bool   `json:"public"`  // reachable from outside its network
	Virtual bool   `json:"virtual"` // a virtual (floating, shared) address
	Network string `json:"network,omitempty"`
	Netmask string `json:"netmask,omitempty"`
}

// ServerUpdate changes the fields that are set (nil = unchanged).
type ServerUpdate struct {
	Name       *string
	Address    *string
	Runtime    *string
	Capacity   *int
	Location   *string
	Status     *ServerStatus
	LastSeenAt *time.Time
	// The host's record.
	Kind        *string
	Stage       *ServerStage
	OSType      *string
	CPUs        *int
	MemoryMB    *int64
	Description *string
	Addresses   *[]HostAddress
}

// ServerFilter selects servers; nil fields do not filter.
type ServerFilter struct {
	Status  *ServerStatus
	Runtime *string
	Name    *string // exact name
	Kind    *string
	// VisibleTo, a user id, keeps the servers the user holds server.view on by
	// a grant to itself or one of its groups.
	VisibleTo *string
	Page
}

// ServerLoad is a live reading of a server taken from its runtime.
type ServerLoad struct {
	Reachable   bool      `json:"reachable"`
	Error       string    `json:"error,omitempty"`
	CPUPercent  float64   `json:"cpu_percent"`
	MemoryUsed  uint64    `json:"memory_used"`
	MemoryTotal uint64    `json:"memory_total"`
	Instances   int       `json:"instances"` // instances the runtime reports running there
	CheckedAt   time.Time `json:"checked_at"`
}

// Page is offset pagination and ordering shared by list filters.
// Sort names fields; a leading "-" sorts descending. Limit 0 means no limit.
// Since, when set, is the stamp of an answer the caller keeps (List.Stamp): a
// list that follows its data's changes (list.go) answers List.Unchanged rather
// than read the page again when the data are still in that state.
type Page struct {
	Offset int
	Limit  int
	Sort   []string
	Since  Stamp
}

// Image is what an instance boots from. Zone "pub" images are seen by everyone,
// "own" images only by their owner.
type Image struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Ref       string    `json:"ref"` // runtime reference, e.g. a Docker image tag
	Zone      string    `json:"zone"`
	OwnerID   string    `json:"owner_id,omitempty"`
	OSType    string    `json:"os_type,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Project is the unit of tenancy and limits.
type Project struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	OwnerID     string          `json:"owner_id,omitempty"`
	Settings    json.RawMessage `json:"settings,omitempty"` // face-specific settings (e.g. a TRS pool)
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Role is a user's global role: an admin holds every action of the access
// policy (core/access.go), a member what its rules and grants give it.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// User is an identity. PasswordHash is argon2id (core/secret) and never leaves the store
// through an API.
type User struct {
	ID           string    `json:"id"`
	Number       int64     `json:"number"` // its numeric id (Numbers)
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Phone        string    `json:"phone"`
	Role         Role      `json:"role"`
	DomainID     string    `json:"domain_id"` // "default" when not set
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// PasswordChangedAt is when the password was set (creation, every change);
	// the password policy (Config.PasswordMaxAge) counts its age from it.
	PasswordChangedAt time.Time `json:"password_changed_at"`
	// GraceLoginsUsed counts logins with an expired password since it was set.
	GraceLoginsUsed int `json:"grace_logins_used"`
	// Realm names whose admin API manages the account (RealmHostdeck when
	// empty on creation); see core/access.go.
	Realm string `json:"realm"`
}

// InstanceState is where an instance is in its life.
type InstanceState string

const (
	StateBuilding  InstanceState = "building"
	StateActive    InstanceState = "active"
	StateRebooting InstanceState = "rebooting"
	StateStopped   InstanceState = "stopped"
	StateError     InstanceState = "error"
	StateDeleted   InstanceState = "deleted"
	StateRescue    InstanceState = "rescue"
)

// Port is a port an instance listens on; the runtime publishes it.
type Port struct {
	Container int    `json:"container"`
	Protocol  string `json:"protocol,omitempty"` // "tcp" when empty
}

// Volume is a named volume mounted into an instance.
type Volume struct {
	Name string `json:"name"` // the runtime's volume name, unique per instance
	Path string `json:"path"` // mount point inside the instance
}

// InstanceSpec is what a runtime needs to create an instance. Runtimes create by
// Name idempotently: creating a name that exists returns the existing instance.
type InstanceSpec struct {
	Name       string            `json:"name"`
	Image      string            `json:"image"`
	Cmd        []string          `json:"cmd,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Ports      []Port            `json:"ports,omitempty"`
	Volumes    []Volume          `json:"volumes,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	HealthPath string            `json:"health_path,omitempty"` // HTTP path that answers 200 when healthy
	// Network names the private network the instance is attached to (created by
	// the runtime when missing); "" is the runtime's default networking. The
	// runtime then reports the instance's address on that network.
	Network string `json:"network,omitempty"`
	// Stdin keeps the instance's standard input open, for a runtime that can
	// write there (StdinWriter): the client template's image reads its owner
	// password on it when it starts (ClientTemplate.OwnerPasswordStdin).
	Stdin bool `json:"stdin,omitempty"`
}

// LabelInstance is the runtime label that ties a runtime object to its Instance
// record; LabelServer names the server (its id) the object was made for, so
// that several servers, or several installs, can share one Docker Engine
// without taking each other's instances for orphans.
const (
	LabelInstance = "hostdeck.instance"
	LabelServer   = "hostdeck.server"
)

// On returns the spec as made on server srv: its labels carry LabelServer.
func (sp InstanceSpec) On(srv *Server) InstanceSpec {
	labels := make(map[string]string, len(sp.Labels)+1)
	for k, v := range sp.Labels {
		labels[k] = v
	}
	labels[LabelServer] = srv.ID
	sp.Labels = labels
	return sp
}

// Instance is a workload (a container or VM) on a server.
type Instance struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	ServerID   string        `json:"server_id"`
	ProjectID  string        `json:"project_id,omitempty"`
	ImageID    string        `json:"image_id,omitempty"`
	State      InstanceState `json:"state"`
	RuntimeRef string        `json:"runtime_ref,omitempty"` // container id, sim id
	Address    string        `json:"address,omitempty"`
	URL        string        `json:"url,omitempty"`
	Spec       InstanceSpec  `json:"spec"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// InstanceUpdate changes the fields that are set.
type InstanceUpdate struct {
	ServerID   *string
	State      *InstanceState
	RuntimeRef *string
	Address    *string
	URL        *string
	Spec       *InstanceSpec
}

// InstanceFilter selects instances.
type InstanceFilter struct {
	IDs       []string // when not nil, only these instances
	ServerID  *string
	ProjectID *string
	State     *InstanceState
	// VisibleTo, a user id, keeps the instances a member sees: the machines
	// assigned to the user and the instances of projects the user owns or has a
	// role on.
	VisibleTo *string
	Page
}

// ClientStatus is where an alfa client is in its life.
type ClientStatus string

const (
	ClientCreating     ClientStatus = "creating"
	ClientActive       ClientStatus = "active"
	ClientFailed       ClientStatus = "failed"
	ClientTransferring ClientStatus = "transferring"
	ClientDeleting     ClientStatus = "deleting"
	ClientDeleted      ClientStatus = "deleted"
)

// ClientStatuses are the values a ClientStatus takes.
var ClientStatuses = []ClientStatus{ClientCreating, ClientActive, ClientFailed, ClientTransferring, ClientDeleting, ClientDeleted}

// Client is an alfa customer: an owner, contacts, the instance that runs its cloud,
// and an expiry date whose every change is kept (ExpireChange).
type Client struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Email      string       `json:"email"`
	Phone      string       `json:"phone"`
	Lang       string       `json:"lang"` // "ru" or "en": the language of its e-mails
	ServerID   string       `json:"server_id"`
	InstanceID string       `json:"instance_id"`
	Status     ClientStatus `json:"status"`
	ExpireDate *time.Time   `json:"expire_date,omitempty"` // a date (UTC midnight)
	Demo       bool         `json:"demo"`
	URL        string       `json:"url"`
	// OwnerLogin is the login of the lab's owner account in the client's cloud.
	OwnerLogin string `json:"owner_login"`
	// OwnerPasswordEnc is the owner password sealed by core/secret; never rendered.
	OwnerPasswordEnc []byte `json:"-"`
	// ExpireNoticeFor is the expiry date for which the automatic notice went out.
	ExpireNoticeFor *time.Time `json:"-"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// ClientUpdate changes the fields that are set. ExpireDate uses a double pointer:
// a non-nil pointer to nil clears the date.
type ClientUpdate struct {
	Name             *string
	Email            *string
	Phone            *string
	Lang             *string
	ServerID         *string
	InstanceID       *string
	Status           *ClientStatus
	ExpireDate       **time.Time
	Demo             *bool
	URL              *string
	OwnerPasswordEnc *[]byte
	ExpireNoticeFor  **time.Time
}

// ClientFilter selects clients. Name and Email match substrings (case-insensitive).
// Deleted clients are left out unless Status asks for them.
type ClientFilter struct {
	ServerID *string
	Status   *ClientStatus
	Name     *string
	Email    *string
	// ExpiringBefore selects clients whose expiry date is on or before it.
	ExpiringBefore *time.Time
	Page
}

// ExpireChange is one change of a client's expiry date.
type ExpireChange struct {
	ID       string     `json:"id"`
	ClientID string     `json:"client_id"`
	Old      *time.Time `json:"old,omitempty"`
	New      *time.Time `json:"new,omitempty"`
	Actor    string     `json:"actor"`
	Source   string     `json:"source"`
	At       time.Time  `json:"at"`
}

// TaskStatus is a task's state, named as celery names them.
type TaskStatus string

const (
	TaskPending TaskStatus = "PENDING"
	TaskStarted TaskStatus = "STARTED"
	TaskSuccess TaskStatus = "SUCCESS"
	TaskFailure TaskStatus = "FAILURE"
	TaskRetry   TaskStatus = "RETRY"
	TaskRevoked TaskStatus = "REVOKED"
)

// TaskStatuses are the values a TaskStatus takes.
var TaskStatuses = []TaskStatus{TaskPending, TaskStarted, TaskSuccess, TaskFailure, TaskRetry, TaskRevoked}

// Done reports whether the status is final.
func (s TaskStatus) Done() bool {
	return s == TaskSuccess || s == TaskFailure || s == TaskRevoked
}

// Task is a durable asynchronous job. It is written in the same transaction as the
// Change that asks for it; workers claim it with a lease, retry it with backoff and
// record the outcome.
type Task struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Status      TaskStatus      `json:"status"`
	Progress    int             `json:"progress"` // 0..100
	Message     string          `json:"message,omitempty"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	RunAt       time.Time       `json:"run_at"`
	LeaseOwner  string          `json:"-"`
	LeaseUntil  *time.Time      `json:"-"`
	Creator     string          `json:"creator"`
	TargetType  string          `json:"target_type,omitempty"`
	TargetID    string          `json:"target_id,omitempty"`
	// Key, when set, is unique among all tasks: periodic jobs use it so that a slot
	// runs once per cluster.
	Key             string     `json:"-"`
	CancelRequested bool       `json:"cancel_requested"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
}

// TaskFilter selects tasks.
type TaskFilter struct {
	Kind       *string
	Status     *TaskStatus
	TargetType *string
	TargetID   *string
	Creator    *string
	Page
}

// TaskOutcome is how a worker ends an attempt of task ID: SUCCESS with Result,
// FAILURE or REVOKED with Error, or RETRY with Error and the time of the next
// attempt.
type TaskOutcome struct {
	ID     string
	Status TaskStatus
	Result json.RawMessage
	Error  string
	RunAt  time.Time // for RETRY
	// Progress, when not nil, is the attempt's last progress report, not written
	// yet: it is recorded with the outcome, so that ending an attempt is one
	// write (a success's progress is 100 whatever was reported).
	Progress *TaskProgress
}

// TaskProgress is a handler's report of how far its task has got.
type TaskProgress struct {
	Percent int // 0 to 100
	Message string
}

// AuditEvent records one change: who did what to which record, when and from where.
type AuditEvent struct {
	ID         string          `json:"id"`
	Number     int64           `json:"number"` // its numeric id (Numbers)
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Face       string          `json:"face"`
	Source     string          `json:"source"` // client address
	Action     string          `json:"action"` // e.g. "client.create"
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

// AuditFilter selects audit events, newest first unless sorted otherwise; nil
// fields do not filter, and a list field keeps the events with any of its
// values (empty: none).
type AuditFilter struct {
	Actor       *string
	Action      *string
	TargetType  *string
	TargetID    *string
	Actors      []string
	Actions     []string
	TargetTypes []string
	TargetIDs   []string
	// From and To bound At, both included.
	From, To *time.Time
	// DetailContains keeps the events whose detail, as stored (JSON), holds
	// it, letter case aside.
	DetailContains *string
	Page
}
