package core

import (
	"context"
	"time"
)

// Store is hostdeck's persistent state. Its Queries run each in their own implicit
// transaction; InTx runs fn in one transaction that commits when fn returns nil and
// rolls back otherwise, so a change and the task it asks for are written together.
//
// Every method returns *Error kinds at the boundary: KindNotFound for an unknown id,
// KindConflict for a unique violation (or a lost task lease), KindInternal otherwise.
// Lists return the page of records and the total number matching the filter.
type Store interface {
	Queries
	Transactor
	InTx(ctx context.Context, fn func(q Queries) error) error
	Close() error
}

// Transactor runs fn in one transaction, as Store.InTx does, handing it the
// transaction's queries untyped: a capability's use cases declare the queries
// they need as their own interface, and InTx gives fn the transaction as that.
type Transactor interface {
	Transact(ctx context.Context, fn func(tx any) error) error
}

// InTx runs fn in one transaction of t, with its queries as the caller's own
// interface Q (which every store's transaction implements; the store contract
// suite checks it for each capability).
func InTx[Q any](ctx context.Context, t Transactor, fn func(q Q) error) error {
	return t.Transact(ctx, func(tx any) error {
		q, ok := tx.(Q)
		if !ok {
			return Errorf(KindInternal, "the store's transaction is no %T", (*Q)(nil))
		}
		return fn(q)
	})
}

// Queries is every store operation, grouped by noun.
type Queries interface {
	ServerStore
	InstanceStore
	ClientStore
	UserStore
	ProjectStore
	ImageStore
	TaskStore
	AuditStore
	CatalogueStore
	ProjectContentStore
	IdentityStore
	TokenStore
	LimitStore
	InstanceNumberStore
	AccessStore
}

type ServerStore interface {
	CreateServer(ctx context.Context, s *Server) error // Conflict on a duplicate name
	GetServer(ctx context.Context, id string) (*Server, error)
	ListServers(ctx context.Context, f ServerFilter) ([]*Server, int, error)
	UpdateServer(ctx context.Context, id string, u ServerUpdate) (*Server, error)
	DeleteServer(ctx context.Context, id string) error
	// LockServers serialises placement decisions: on PostgreSQL it locks the server
	// rows until the transaction ends; on SQLite transactions are already serial.
	LockServers(ctx context.Context) error
	// CountClientsByServer counts the clients that are not deleted, per server id.
	CountClientsByServer(ctx context.Context) (map[string]int, error)
	// CountMachinesByServer counts machines that are not deleted, per server id.
	CountMachinesByServer(ctx context.Context) (map[string]int, error)
}

type InstanceStore interface {
	// CreateInstance stores in and gives it the next numeric id (unique and
	// never reused, InstanceNumberStore); Conflict on a duplicate name.
	CreateInstance(ctx context.Context, in *Instance) error
	GetInstance(ctx context.Context, id string) (*Instance, error)
	// LockMachine reads an instance and, on PostgreSQL inside a transaction, locks
	// its row until the transaction ends; KindNotFound for an unknown id.
	LockMachine(ctx context.Context, id string) (*Instance, error)
	ListInstances(ctx context.Context, f InstanceFilter) ([]*Instance, int, error)
	UpdateInstance(ctx context.Context, id string, u InstanceUpdate) (*Instance, error)
}

type ClientStore interface {
	CreateClient(ctx context.Context, c *Client) error // Conflict on a duplicate name
	GetClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context, f ClientFilter) ([]*Client, int, error)
	UpdateClient(ctx context.Context, id string, u ClientUpdate) (*Client, error)
	AddExpireChange(ctx context.Context, e *ExpireChange) error
	ListExpireChanges(ctx context.Context, clientID string, p Page) ([]*ExpireChange, int, error)
}

type UserStore interface {
	CreateUser(ctx context.Context, u *User) error // Conflict on a duplicate name
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByName(ctx context.Context, name string) (*User, error)
}

type ProjectStore interface {
	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, id string) (*Project, error)
}

type ImageStore interface {
	CreateImage(ctx context.Context, im *Image) error
	GetImage(ctx context.Context, id string) (*Image, error)
	ListImages(ctx context.Context, f ImageFilter) ([]*Image, int, error)
}

type TaskStore interface {
	// CreateTask stores t as PENDING, or as it is when its status is a finished one
	// (work done synchronously, recorded as a task). A Key that another task holds
	// is KindConflict.
	CreateTask(ctx context.Context, t *Task) error
	GetTask(ctx context.Context, id string) (*Task, error)
	ListTasks(ctx context.Context, f TaskFilter) ([]*Task, int, error)
	// ClaimTasks leases up to limit runnable tasks to owner until now+lease: PENDING
	// or RETRY tasks whose RunAt has come, and STARTED tasks whose lease ran out
	// (their worker died). Claimed tasks become STARTED with Attempts incremented.
	// On PostgreSQL concurrent claimers never get the same task (SKIP LOCKED).
	ClaimTasks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*Task, error)
	// ExtendTaskLease renews the lease and returns the task (to see CancelRequested);
	// KindConflict if owner no longer holds it.
	ExtendTaskLease(ctx context.Context, id, owner string, until time.Time) (*Task, error)
	// SetTaskProgress records progress while owner holds the lease.
	SetTaskProgress(ctx context.Context, id, owner string, progress int, message string) error
	// FinishTask records the outcome of the attempt owner holds; KindConflict if the
	// lease was lost.
	FinishTask(ctx context.Context, id, owner string, o TaskOutcome, now time.Time) error
	// RequestTaskCancel revokes a PENDING or RETRY task at once and marks a STARTED one
	// for cancellation; a finished task is KindConflict.
	RequestTaskCancel(ctx context.Context, id string, now time.Time) (*Task, error)
	// ReleaseTasks hands owner's STARTED tasks back (PENDING, lease cleared, the attempt
	// not counted) so that the next start runs them: graceful shutdown.
	ReleaseTasks(ctx context.Context, owner string, now time.Time) error
	CountTasksByStatus(ctx context.Context) (map[TaskStatus]int, error)
}

type AuditStore interface {
	AddAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)
}

// InstanceNumberStore keeps instances' numeric ids.
type InstanceNumberStore interface {
	// ListNumberedInstances lists the instances f selects that are not deleted,
	// each with its number (0 for one without), one page of them (f.Page, in its
	// order) and the number of them all. The numbers come in the same query as
	// the rows.
	ListNumberedInstances(ctx context.Context, f InstanceFilter) ([]*NumberedInstance, int, error)
	// InstanceIDByNumber is KindNotFound for an unknown number.
	InstanceIDByNumber(ctx context.Context, number int64) (string, error)
}

// NumberedInstance is an instance with its numeric id.
type NumberedInstance struct {
	*Instance
	Number int64 `json:"number"`
}
