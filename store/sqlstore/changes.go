package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"hostdeck/core"
)

// Change counters. A list that follows its data (listQuery.tables) is answered
// from caches kept per stamp, the change counts of the tables it reads
// (table_changes, migration 0012). The counts stay right because nobody has to
// remember them: every statement a store runs goes through a writer that
// notes which followed table it writes (writes), and the transaction adds one
// to each such table's count just before it commits. A write outside a
// transaction runs in one of its own for that (ownTx). So a change and its
// count commit together, on SQLite and PostgreSQL alike, and a stamp read
// after a commit, on whatever replica, differs from every stamp read before it.

// followed are the tables lists follow: those a cached list shows or filters
// on. A list may follow only these (listQuery checks); a new one adds its
// tables here.
var followed = map[string]bool{
	"clients": true, "instances": true, "instance_elids": true,
	"machine_users": true, "machine_groups": true, "projects": true, "trs_projects": true,
	"role_grants": true, "links": true,
	// applications' lists: their sets, and the grants that say who sees them
	"applications": true, "app_requires": true, "app_persons": true, "product_lines": true,
	"users": true, "user_groups": true, "group_members": true, "grants": true,
}

// followedTables lists every followed table.
func followedTables() []string { return slices.Collect(maps.Keys(followed)) }

// cascades are the followed tables whose rows a delete from a table removes too
// (ON DELETE CASCADE in the schema; TestCascadesFollowed holds this to the
// migrations).
var cascades = map[string][]string{
	"instances":    {"machine_users", "machine_groups"},
	"users":        {"machine_users", "role_grants", "group_members", "grants", "app_persons"},
	"user_groups":  {"machine_groups", "group_members", "grants"},
	"projects":     {"trs_projects"},
	"applications": {"app_requires", "app_persons"},
}

// writes returns the followed tables a statement changes: the table of an
// INSERT, UPDATE or DELETE (the only ways the store's SQL writes) and, for a
// DELETE, those it cascades to.
func writes(query string) []string {
	q := strings.TrimLeft(query, " \t\r\n")
	verb := ""
	for _, v := range [...]string{"INSERT INTO ", "UPDATE ", "DELETE FROM "} {
		if len(q) >= len(v) && strings.EqualFold(q[:len(v)], v) {
			verb, q = v, strings.TrimLeft(q[len(v):], " \t\r\n")
			break
		}
	}
	if verb == "" {
		return nil
	}
	end := strings.IndexFunc(q, func(r rune) bool {
		return r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	})
	if end < 0 {
		end = len(q)
	}
	table := strings.ToLower(q[:end])
	var out []string
	if followed[table] {
		out = append(out, table)
	}
	if verb == "DELETE FROM " {
		out = append(out, cascades[table]...)
	}
	return out
}

// changeSet is the followed tables a transaction wrote, to count before it
// commits.
type changeSet struct {
	mu     sync.Mutex
	tables []string
}

func (c *changeSet) note(query string) {
	ts := writes(query)
	if len(ts) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range ts {
		if !slices.Contains(c.tables, t) {
			c.tables = append(c.tables, t)
		}
	}
}

func (c *changeSet) written() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.tables)
}

// tracked runs a transaction's statements and notes the followed tables they
// write.
type tracked struct {
	dbtx
	c *changeSet
}

func (t tracked) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.c.note(query)
	return t.dbtx.ExecContext(ctx, query, args...)
}

func (t tracked) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.c.note(query)
	return t.dbtx.QueryContext(ctx, query, args...)
}

func (t tracked) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	t.c.note(query)
	return t.dbtx.QueryRowContext(ctx, query, args...)
}

// countChanges adds one change to each of tables on one shard, before the
// transaction of db commits. The rows are taken in name order, one statement,
// so that two transactions never each hold a row the other waits for.
func countChanges(ctx context.Context, db dbtx, d *Dialect, tables []string) error {
	if len(tables) == 0 {
		return nil
	}
	tables = slices.Sorted(slices.Values(tables))
	shard := 0
	if d.ChangeShards > 1 {
		shard = rand.IntN(d.ChangeShards)
	}
	var a args
	sh := a.add(shard)
	rows := make([]string, len(tables))
	for i, t := range tables {
		rows[i] = "(" + a.add(t) + ", " + sh + ", 1)"
	}
	_, err := db.ExecContext(ctx, `INSERT INTO table_changes (table_name, shard, n) VALUES `+strings.Join(rows, ", ")+`
		ON CONFLICT (table_name, shard) DO UPDATE SET n = table_changes.n + 1`, a...)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "count changes of %s", strings.Join(tables, ", "))
	}
	return nil
}

// localCounts are the change counts of a database that only this process
// writes (Dialect.Exclusive): read once when the store opens, then kept as this
// process commits, so that a list's stamp costs a map lookup instead of a read
// (which was half the time of answering a cached page). A commit is added only
// once it is done, so a stamp read after it is new and what is read after the
// stamp is as new as it.
type localCounts struct {
	mu sync.RWMutex
	n  map[string]int64
}

// load reads every count from the database.
func (c *localCounts) load(ctx context.Context, db *sql.DB) error {
	n, err := readCounts(ctx, pool{db}, followedTables())
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.n = n
	c.mu.Unlock()
	return nil
}

// committed adds the change of a commit that wrote tables.
func (c *localCounts) committed(tables []string) {
	if c == nil || len(tables) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range tables {
		c.n[t]++
	}
}

// changeCounts is the change counts of tables: those kept in memory when the
// database is this process's alone, else one read of their few rows. A table
// never written counts 0.
func (q *queries) changeCounts(ctx context.Context, tables []string) (map[string]int64, error) {
	c := q.db.counts
	if c == nil {
		return readCounts(ctx, q.r, tables)
	}
	out := make(map[string]int64, len(tables))
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, t := range tables {
		out[t] = c.n[t]
	}
	return out, nil
}

// readCounts reads the change counts of tables: one read of their few rows.
// A table never written counts 0.
func readCounts(ctx context.Context, db dbtx, tables []string) (map[string]int64, error) {
	var a args
	marks := make([]string, len(tables))
	for i, t := range tables {
		marks[i] = a.add(t)
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name, n FROM table_changes WHERE table_name IN (`+strings.Join(marks, ", ")+`)`, a...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "read change counts")
	}
	defer rows.Close()
	out := make(map[string]int64, len(tables))
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "read change counts")
		}
		out[t] += n
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "read change counts")
	}
	return out, nil
}

// stampOf is the stamp of tables at counts: their names and counts, in order.
func stampOf(counts map[string]int64, tables ...[]string) core.Stamp {
	var b []byte
	for _, ts := range tables {
		for _, t := range ts {
			b = append(b, t...)
			b = append(b, '=')
			b = strconv.AppendInt(b, counts[t], 10)
			b = append(b, ';')
		}
	}
	return core.Stamp(b)
}

// ownTx is a store's writer outside transactions. A statement that writes a
// followed table runs in a transaction of its own that counts the change too;
// any other statement runs as it is.
type ownTx struct {
	db     *sql.DB
	d      *Dialect
	counts *localCounts // of an exclusive database, kept as it commits
}

func (o ownTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tables := writes(query)
	if len(tables) == 0 {
		return o.db.ExecContext(ctx, query, args...)
	}
	var res sql.Result
	err := o.inTx(ctx, tables, func(tx *sql.Tx) (err error) {
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// QueryContext refuses a statement that writes a followed table: its rows
// would be read after the transaction that counts it had to end.
func (o ownTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tables := writes(query); len(tables) > 0 {
		return nil, core.Errorf(core.KindInternal, "a statement reading rows while writing %s runs in a transaction", strings.Join(tables, ", "))
	}
	return o.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a statement that writes a followed table (UPDATE …
// RETURNING) when its row is scanned, in a transaction that counts the change
// after the row is read.
func (o ownTx) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	tables := writes(query)
	if len(tables) == 0 {
		return o.db.QueryRowContext(ctx, query, args...)
	}
	return scanFunc(func(dest ...any) error {
		return o.inTx(ctx, tables, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, query, args...).Scan(dest...)
		})
	})
}

// inTx runs fn and counts the changes of tables in one transaction. fn's error
// is returned as it is, for the caller to turn into a kind.
func (o ownTx) inTx(ctx context.Context, tables []string, fn func(tx *sql.Tx) error) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return core.Wrap(core.KindInternal, err, "begin transaction")
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := countChanges(ctx, txdb{tx}, o.d, tables); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	o.counts.committed(tables)
	return nil
}

// scanFunc is a row that is read when it is scanned.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// pool and txdb are *sql.DB and *sql.Tx as dbtx.
type pool struct{ *sql.DB }

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	return p.DB.QueryRowContext(ctx, query, args...)
}

type txdb struct{ *sql.Tx }

func (t txdb) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	return t.Tx.QueryRowContext(ctx, query, args...)
}
