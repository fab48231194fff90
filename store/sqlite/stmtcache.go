package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"modernc.org/sqlite"
)

// maxStmts bounds each connection's statement cache: queries built with a varying
// number of placeholders (IN lists) would otherwise grow it without end.
const maxStmts = 256

// openDB opens a pool whose connections keep their prepared statements by query
// text. database/sql prepares a statement on every call when the driver runs
// queries directly, and on SQLite preparing was a quarter of the time of a short
// request; a cache per connection needs no locking (database/sql hands a
// connection to one user at a time) and works inside transactions too.
func openDB(dsn string) *sql.DB { return sql.OpenDB(connector{dsn}) }

type connector struct{ dsn string }

func (c connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn.(sqliteConn), stmts: map[string]driver.Stmt{}}, nil
}

func (connector) Driver() driver.Driver { return &sqlite.Driver{} }

// sqliteConn is what modernc's connection implements and database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachingConn struct {
	conn  sqliteConn
	stmts map[string]driver.Stmt
}

var (
	_ driver.ExecerContext  = (*cachingConn)(nil)
	_ driver.QueryerContext = (*cachingConn)(nil)
)

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.conn.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, o)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.conn.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.conn.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.conn.IsValid() }

func (c *cachingConn) Close() error {
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
	return c.conn.Close()
}

// take removes the statement for query from the cache, or prepares one: a
// statement in use (rows still open) is out of the cache, so that a nested use of
// the same query gets a statement of its own.
func (c *cachingConn) take(ctx context.Context, query string) (stmt, error) {
	if st, ok := c.stmts[query]; ok {
		delete(c.stmts, query)
		return st.(stmt), nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.(stmt), nil
}

// put returns a statement to the cache, or closes it when the cache is full or
// already holds one for query.
func (c *cachingConn) put(query string, st driver.Stmt) {
	if _, ok := c.stmts[query]; ok || len(c.stmts) >= maxStmts {
		st.Close()
		return
	}
	c.stmts[query] = st
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	defer c.put(query, st)
	return st.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := st.QueryContext(ctx, args)
	if err != nil {
		c.put(query, st)
		return nil, err
	}
	return &cachedRows{rows: r.(rows), done: func() { c.put(query, st) }}, nil
}

// rows is what modernc's rows implement.
type rows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows hands its statement back to the cache when closed.
type cachedRows struct {
	rows
	done func()
}

func (r *cachedRows) Close() error {
	err := r.rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}
