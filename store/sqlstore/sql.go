package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"hostdeck/core"
)

// newID returns a sortable record id (UUIDv7).
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Times are stored as microseconds since the Unix epoch, in UTC.

// norm is t as the store keeps it: UTC, microsecond precision.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := norm(*t)
	return &v
}

// datePtr is the calendar date of t (as t's location sees it) at UTC midnight.
func datePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	y, m, d := t.Date()
	v := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &v
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// jsonArg binds raw JSON as TEXT; nil stays NULL.
func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func fromNullJSON(s sql.NullString) []byte {
	if !s.Valid {
		return nil
	}
	return []byte(s.String)
}

func bytesArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// args collects bind arguments and hands out their $n placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// marks adds each of vs and returns their placeholders, comma-separated (for
// IN).
func marks[T any](a *args, vs []T) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = a.add(v)
	}
	return strings.Join(out, ", ")
}

// where is a list of conditions joined by AND.
type where []string

func (w where) String() string {
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}

// likeArg is a case-insensitive substring pattern for `lower(col) LIKE $n ESCAPE '\'`.
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// sorting lists the fields a noun may be sorted by (field → column) and its
// default order (Page.Sort entries).
type sorting struct {
	fields   map[string]string
	nullable map[string]bool // columns that may be NULL: they sort after the others
	def      []string
	// indexed are the columns an index orders the rows by (with id after
	// them), for their list's filter: deep pages in these orders are found from
	// kept starts (lists.go).
	indexed []string
}

type orderTerm struct {
	col            string
	desc, nullable bool
}

// order parses Page.Sort (or the default), ending with id so that pages are stable.
func (s sorting) order(sort []string) ([]orderTerm, error) {
	if len(sort) == 0 {
		sort = s.def
	}
	var terms []orderTerm
	hasID := false
	for _, f := range sort {
		name, desc := strings.CutPrefix(f, "-")
		col, ok := s.fields[name]
		if !ok {
			return nil, core.Invalid("sort", "cannot sort by %q", name)
		}
		hasID = hasID || col == "id"
		terms = append(terms, orderTerm{col: col, desc: desc, nullable: s.nullable[col]})
	}
	if !hasID {
		terms = append(terms, orderTerm{col: "id"})
	}
	return terms, nil
}

// orderBy renders terms, or their exact reverse.
func orderBy(terms []orderTerm, reverse bool) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		desc := t.desc != reverse
		p := t.col + " ASC"
		if desc {
			p = t.col + " DESC"
		}
		if t.nullable && reverse {
			p += " NULLS FIRST"
		} else if t.nullable {
			p += " NULLS LAST"
		}
		parts[i] = p
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

func checkPage(p core.Page) error {
	if p.Offset < 0 {
		return core.Invalid("offset", "offset must not be negative")
	}
	if p.Limit < 0 {
		return core.Invalid("limit", "limit must not be negative")
	}
	return nil
}

func limitClause(limit, offset int) string {
	if limit == 0 {
		if offset == 0 {
			return ""
		}
		limit = math.MaxInt64 // SQLite needs a LIMIT before OFFSET
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset)
}

// listQuery is one page of a list and the total that matches its filter. A
// list that sets tables follows its data (lists.go: list); the others are read
// by run, counting on every call.
type listQuery[T any] struct {
	what  string // for error messages: "clients"
	cols  string // the columns read; with join, qualified with their tables
	from  string // the table listed; where names its columns unqualified
	where where
	args  args
	page  core.Page
	sort  sorting
	scan  func(scanner) (T, error)
	// count, when set, replaces "SELECT count(*) FROM from WHERE …" with a cheaper
	// query giving the same number; it takes no arguments.
	count string
	// err is a filter that could not be rendered (see cond); run returns it.
	err error

	// tables are the followed tables (changes.go) the filter and the order read,
	// and related those of the records join adds: a list that names them is
	// answered by list, with its stamp, its total counted once per change and its
	// deep pages found from kept starts.
	tables, related []string
	// join adds the page's related records to its rows (" LEFT JOIN … ON …"),
	// and thenBy orders the rows of one item ("", or ", col, …") when a join
	// gives several, which merge folds into one (merge(last, next) reports that
	// next was folded into last).
	join, thenBy string
	merge        func(last, next T) bool
	// stride is how many rows apart its kept page starts are (lists.go;
	// pageStride when 0).
	stride int
}

// run reads the page and the total. Deep pages are what make offset paging slow:
// the database steps over every skipped row. So a page past the middle is read
// from the other end (ORDER BY reversed, a small OFFSET) and turned round, and an
// OFFSET is applied to ids only (a covering index scan) before whole rows are read.
func (l listQuery[T]) run(ctx context.Context, db dbtx) ([]T, int, error) {
	if l.err != nil {
		return nil, 0, l.err
	}
	p := l.page
	if err := checkPage(p); err != nil {
		return nil, 0, err
	}
	terms, err := l.sort.order(p.Sort)
	if err != nil {
		return nil, 0, err
	}

	total := -1
	limit, offset, reverse := p.Limit, p.Offset, false
	if p.Offset > 0 {
		if total, err = l.total(ctx, db); err != nil {
			return nil, 0, err
		}
		if p.Offset >= total {
			return []T{}, total, nil
		}
		if p.Limit > 0 && p.Offset > total/2 {
			limit = min(p.Limit, total-p.Offset)
			offset, reverse = total-p.Offset-limit, true
		}
	}

	order := orderBy(terms, reverse)
	var query string
	if offset > 0 {
		query = "SELECT " + l.cols + " FROM " + l.from + " WHERE id IN (SELECT id FROM " + l.from + l.where.String() +
			order + limitClause(limit, offset) + ")" + order
	} else {
		query = "SELECT " + l.cols + " FROM " + l.from + l.where.String() + order + limitClause(limit, offset)
	}
	rows, err := db.QueryContext(ctx, query, l.args...)
	if err != nil {
		return nil, 0, core.Wrap(core.KindInternal, err, "list %s", l.what)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := l.scan(rows)
		if err != nil {
			return nil, 0, core.Wrap(core.KindInternal, err, "list %s", l.what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, core.Wrap(core.KindInternal, err, "list %s", l.what)
	}
	rows.Close()
	if reverse {
		slices.Reverse(out)
	}
	if total >= 0 {
		return out, total, nil
	}
	// A first page that is not full tells the total by itself.
	if p.Limit == 0 || len(out) < p.Limit {
		return out, len(out), nil
	}
	if total, err = l.total(ctx, db); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

func (l listQuery[T]) total(ctx context.Context, db dbtx) (int, error) {
	query, args := "SELECT count(*) FROM "+l.from+l.where.String(), []any(l.args)
	if l.count != "" {
		query, args = l.count, nil
	}
	var n int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, core.Wrap(core.KindInternal, err, "count %s", l.what)
	}
	return n, nil
}

// writeErr turns an error of a write into a kind: Conflict for a unique
// violation, NotFound for a missing row or a missing referenced record.
func (q *queries) writeErr(err error, what, key string) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return core.NotFound(what, key)
	case q.d.IsUniqueViolation(err):
		return core.Wrap(core.KindConflict, err, "%s %q conflicts with an existing one", what, key)
	default:
		return core.Wrap(core.KindInternal, err, "write %s %s", what, key)
	}
}

// readErr turns an error of a read by id into a kind.
func readErr(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.NotFound(what, id)
	}
	return core.Wrap(core.KindInternal, err, "get %s %s", what, id)
}

// sets builds the SET list of an UPDATE from the fields that are set.
type sets struct {
	a     args
	parts []string
}

func (s *sets) set(col string, v any) { s.parts = append(s.parts, col+" = "+s.a.add(v)) }

// update runs `UPDATE table SET … WHERE id = $n RETURNING cols` and scans the row.
func update[T any](ctx context.Context, q *queries, table, what, id string, s *sets, cols string, scan func(scanner) (T, error)) (T, error) {
	s.set("updated_at", micros(norm(q.now())))
	query := "UPDATE " + table + " SET " + strings.Join(s.parts, ", ") + " WHERE id = " + s.a.add(id) + " RETURNING " + cols
	v, err := scan(q.w.QueryRowContext(ctx, query, s.a...))
	if err != nil {
		var zero T
		return zero, q.writeErr(err, what, id)
	}
	return v, nil
}

// stamp fills a new record's id and times and normalises them.
func (q *queries) stamp(id *string, created, updated *time.Time) {
	if *id == "" {
		*id = newID()
	}
	now := norm(q.now())
	if created.IsZero() {
		*created = now
	}
	*created = norm(*created)
	if updated == nil {
		return
	}
	if updated.IsZero() {
		*updated = *created
	}
	*updated = norm(*updated)
}

// like adds a case-insensitive substring match of v on col. Core bounds filter
// values in its list use cases; the store applies the same rule again rather than
// send a longer one, which SQLite fails (a LIKE pattern over 50,000 bytes).
func (l *listQuery[T]) like(col, v string) {
	if err := core.CheckFilterValue(col, v); err != nil {
		l.err = err
		return
	}
	l.where = append(l.where, "lower("+col+") LIKE "+l.args.add(likeArg(v))+` ESCAPE '\'`)
}

// cond adds the condition c puts on col (nil: none): a filter with a modifier
// (core.ParseModifier). Ordered operators compare as the database orders; core
// allows them only where that is meaningful. Core's bounds on the values
// (core.CheckCond) are applied again: a query's parameters are limited.
func (l *listQuery[T]) cond(col string, c *core.Cond) {
	if c == nil {
		return
	}
	if len(c.Values) == 0 {
		l.err = core.Invalid(col, "filter on %s has no value", col)
		return
	}
	if err := core.CheckCond(col, *c); err != nil {
		l.err = err
		return
	}
	switch c.Op {
	case core.OpIn, core.OpNin:
		ph := make([]string, len(c.Values))
		for i, v := range c.Values {
			ph[i] = l.args.add(v)
		}
		not := ""
		if c.Op == core.OpNin {
			not = "NOT "
		}
		l.where = append(l.where, col+" "+not+"IN ("+strings.Join(ph, ", ")+")")
		return
	}
	op, ok := map[core.Op]string{core.OpEq: "=", core.OpNeq: "<>", core.OpGt: ">", core.OpGte: ">=", core.OpLt: "<", core.OpLte: "<="}[c.Op]
	if !ok {
		l.err = core.Invalid(col, "unknown filter operator %q", c.Op)
		return
	}
	l.where = append(l.where, col+" "+op+" "+l.args.add(c.Values[0]))
}

// countBy runs a "SELECT key, count(*) … GROUP BY key" query and returns the counts by key.
func countBy[K ~string](ctx context.Context, db dbtx, what, query string, args ...any) (map[K]int, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "count %s", what)
	}
	defer rows.Close()
	out := map[K]int{}
	for rows.Next() {
		var k K
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, core.Wrap(core.KindInternal, err, "count %s", what)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "count %s", what)
	}
	return out, nil
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "scan %s", strings.TrimSpace(what))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list %s", what)
	}
	return out, nil
}
