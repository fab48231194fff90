package core

import (
	"context"
	"time"
)

// Store is what core's own use cases keep and read (Queries), each call in
// its own implicit transaction or several in one (Transact, through InTx).
//
// Every store method returns *Error kinds at the boundary: KindNotFound for an
// unknown id, KindConflict for a unique violation (or a lost task lease),
// KindInternal otherwise. Lists return the page of records and the total
// number matching the filter. Each capability declares the methods it calls
// as its own Queries; the adapters implement them all.
type Store interface {
	Queries
	Transactor
}

// Transactor runs fn in one transaction, handing it the
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

// Queries are the store operations of core's own use cases: the task and
// audit records every capability writes (Recorder) and lists, and the access
// policy's grants with what it reads of the directory to check them.
type Queries interface {
	Recorder // AddAudit, CreateTask
	GetTask(ctx context.Context, id string) (*Task, error)
	ListTasks(ctx context.Context, f TaskFilter) ([]*Task, int, error)
	// RequestTaskCancel revokes a PENDING or RETRY task at once and marks a STARTED one
	// for cancellation; a finished task is KindConflict.
	RequestTaskCancel(ctx context.Context, id string, now time.Time) (*Task, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)

	AccessStore // UserAccess, AddGrant, RemoveGrant, ListGrants
	GetUser(ctx context.Context, id string) (*User, error)
	GetGroup(ctx context.Context, id string) (*Group, error)
	DomainReader // GetDomain, GetDomainByName
	NumberReader // IDByNumber
}

// NumberedInstance is an instance with its numeric id.
type NumberedInstance struct {
	*Instance
	Number int64 `json:"number"`
}

// InstanceWalker reads a server's instances in bounded batches.
type InstanceWalker interface {
	// ListInstancesAfter lists up to limit instances of a server (deleted ones
	// too) that come after after in creation order (created_at, then id; nil:
	// from the first), without counting them.
	ListInstancesAfter(ctx context.Context, serverID string, after *Instance, limit int) ([]*Instance, error)
}

// WalkInstances calls fn with the instances of a server (deleted ones too), in
// creation order, batch at a time: what a background pass holds is one batch,
// however many records the server has.
func WalkInstances(ctx context.Context, st InstanceWalker, serverID string, batch int, fn func([]*Instance) error) error {
	var after *Instance
	for {
		insts, err := st.ListInstancesAfter(ctx, serverID, after, batch)
		if err != nil {
			return err
		}
		if len(insts) > 0 {
			if err := fn(insts); err != nil {
				return err
			}
		}
		if len(insts) < batch {
			return nil
		}
		after = insts[len(insts)-1]
	}
}
