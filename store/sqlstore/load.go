package sqlstore

import (
	"context"

	"hostdeck/core"
)

// What each server holds (table server_load) is kept in the transaction of
// every change that adds, moves or deletes a client or a machine (an instance
// of a project), so that placement reads a row a server instead of counting
// every client and machine for each new one: at 100,000 clients the counts
// were nearly all of a client's creation. A change of a client's status or
// server, or of a machine's state or server, runs in a transaction of its own
// when it is not in one, so that the old row it reads is the one it replaces.

// addLoad adds n clients (col "clients") or machines (col "machines") to a
// server's load.
func (q *queries) addLoad(ctx context.Context, col, serverID string, n int) error {
	if serverID == "" || n == 0 {
		return nil
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO server_load (server_id, `+col+`) VALUES ($1, $2)
		ON CONFLICT (server_id) DO UPDATE SET `+col+` = server_load.`+col+` + excluded.`+col, serverID, n)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "count the %s of server %s", col, serverID)
	}
	return nil
}

// moveLoad accounts for a record that held (before) or holds (after) a place
// on a server: live is whether it takes one.
func (q *queries) moveLoad(ctx context.Context, col, fromServer string, wasLive bool, toServer string, isLive bool) error {
	if wasLive == isLive && fromServer == toServer {
		return nil
	}
	if wasLive {
		if err := q.addLoad(ctx, col, fromServer, -1); err != nil {
			return err
		}
	}
	if isLive {
		return q.addLoad(ctx, col, toServer, 1)
	}
	return nil
}

// atomically runs fn in q's transaction, or in one of its own.
func (q *queries) atomically(ctx context.Context, fn func(q *queries) error) error {
	if q.inTx {
		return fn(q)
	}
	return q.db.inTx(ctx, fn)
}

func (q *queries) CountClientsByServer(ctx context.Context) (map[string]int, error) {
	return countBy[string](ctx, q.r, "clients by server", `SELECT server_id, clients FROM server_load WHERE clients <> 0`)
}

func (q *queries) CountMachinesByServer(ctx context.Context) (map[string]int, error) {
	return countBy[string](ctx, q.r, "machines by server", `SELECT server_id, machines FROM server_load WHERE machines <> 0`)
}
