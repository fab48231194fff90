package sqlstore

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"hostdeck/core"
)

// Lists that follow their data (listQuery.tables set; core/list.go). One page
// costs one read of the change counts and one query:
//
//   - the stamp: the change counts of the tables the list reads
//     (changeCounts). A caller whose Page.Since is that stamp gets
//     List.Unchanged and nothing else is read;
//   - the page: its rows' ids are found first, in an index that covers the
//     filter and the order (a deferred join), and only those rows are then
//     joined with their related records (listQuery.join), in the same query;
//   - the total, counted once per stamp of the filter's tables and kept
//     (listCache), not on every request;
//   - deep pages: in an order an index gives (sorting.indexed), a page is
//     found from the nearest start kept before it (the sort key of every
//     pageStride-th row, found once per stamp by stepping pageStride rows at a
//     time through the index), so that it costs the same at any depth:
//     ORDER BY … WHERE (sort key) >= start, OFFSET under pageStride. Other
//     orders sort the list on every page, as OFFSET does.
//
// Caches are keyed by the stamp read before the data, so whatever they hold
// was read at that state or a later one, and no stamp comes back once the
// data changed: an answer kept is never served after a change committed, on
// this replica or another. A transaction reads none of it (its own writes are
// not counted yet) and counts and offsets as before.

// pageStride is how many rows apart the kept page starts are: a page steps
// over fewer than this many rows of an index. A list whose rows cost more to
// step over keeps them closer (listQuery.stride).
const pageStride = 512

// strideOf is how many rows apart l's page starts are.
func (l listQuery[T]) strideOf() int {
	if l.stride > 0 {
		return l.stride
	}
	return pageStride
}

// maxListEntries bounds the (filter, order, stamp) combinations kept.
const maxListEntries = 256

// listCache keeps lists' totals and page starts by filter, order and stamp,
// the least recently used going first.
type listCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // of *listEntry, the most recent first
}

func newListCache() *listCache {
	return &listCache{entries: map[string]*list.Element{}, lru: list.New()}
}

// listEntry is what is known of one filter and order at one stamp. Its mutex
// is held while a count or a walk runs, so that concurrent requests wait for
// one rather than each run it.
type listEntry struct {
	key    string
	mu     sync.Mutex
	total  int     // -1: not counted yet
	starts [][]any // starts[b]: the sort key of row b*stride; starts[0] is nil, the beginning
	ended  bool    // starts holds every start there is
}

func (c *listCache) entry(key string) *listEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*listEntry)
	}
	e := &listEntry{key: key, total: -1, starts: [][]any{nil}}
	c.entries[key] = c.lru.PushFront(e)
	for c.lru.Len() > maxListEntries {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(*listEntry).key)
	}
	return e
}

// list reads one page of l with its total, following l.tables (see above)
// outside a transaction.
func (l listQuery[T]) list(ctx context.Context, q *queries) (core.List[T], error) {
	var none core.List[T]
	if l.err != nil {
		return none, l.err
	}
	p := l.page
	if err := checkPage(p); err != nil {
		return none, err
	}
	terms, err := l.sort.order(p.Sort)
	if err != nil {
		return none, err
	}
	for _, t := range slices.Concat(l.tables, l.related) {
		if !followed[t] {
			return none, core.Errorf(core.KindInternal, "list %s follows %s, which is not a followed table", l.what, t)
		}
	}
	if q.inTx || q.lists == nil || len(l.tables) == 0 {
		return l.uncached(ctx, q.r, terms)
	}

	counts, err := q.changeCounts(ctx, slices.Concat(l.tables, l.related))
	if err != nil {
		return none, err
	}
	stamp := stampOf(counts, l.tables, l.related)
	if p.Since != "" && p.Since == stamp {
		return core.List[T]{Stamp: stamp, Unchanged: true}, nil
	}
	var e *listEntry
	entry := func() *listEntry {
		if e == nil {
			e = q.lists.entry(l.cacheKey(terms, stampOf(counts, l.tables)))
		}
		return e
	}

	where, args := l.where, l.args
	offset := p.Offset
	if stride := l.strideOf(); l.sort.keyset(terms) && offset >= stride {
		start, ok, err := l.start(ctx, q.r, entry(), terms, offset/stride)
		if err != nil {
			return none, err
		}
		if !ok { // the list ends before the page
			total, err := l.cachedTotal(ctx, q.r, entry())
			return core.List[T]{Items: []T{}, Total: total, Stamp: stamp}, err
		}
		where, args = seekFrom(where, args, terms, start)
		offset %= stride
	}
	items, err := l.read(ctx, q.r, where, args, terms, p.Limit, offset)
	if err != nil {
		return none, err
	}
	total := len(items)
	if p.Offset > 0 || p.Limit > 0 && len(items) == p.Limit {
		if total, err = l.cachedTotal(ctx, q.r, entry()); err != nil {
			return none, err
		}
	}
	return core.List[T]{Items: items, Total: total, Stamp: stamp}, nil
}

// uncached reads a page with OFFSET and counts its total: in a transaction, or
// for a list that follows nothing.
func (l listQuery[T]) uncached(ctx context.Context, db dbtx, terms []orderTerm) (core.List[T], error) {
	p := l.page
	items, err := l.read(ctx, db, l.where, l.args, terms, p.Limit, p.Offset)
	if err != nil {
		return core.List[T]{}, err
	}
	total := len(items)
	if p.Offset > 0 || p.Limit > 0 && len(items) == p.Limit {
		if total, err = l.total(ctx, db); err != nil {
			return core.List[T]{}, err
		}
	}
	return core.List[T]{Items: items, Total: total}, nil
}

// read is the page query: the ids of the page's rows from an index (where,
// ORDER BY, LIMIT and OFFSET), then those rows and their related records.
func (l listQuery[T]) read(ctx context.Context, db dbtx, where where, args args, terms []orderTerm, limit, offset int) ([]T, error) {
	query := "SELECT " + l.cols + " FROM (SELECT id FROM " + l.from + where.String() + orderBy(terms, false) +
		limitClause(limit, offset) + ") page JOIN " + l.from + " ON " + l.from + ".id = page.id" + l.join +
		qualifiedOrder(l.from, terms) + l.thenBy
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list %s", l.what)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := l.scan(rows)
		if err != nil {
			return nil, core.Wrap(core.KindInternal, err, "list %s", l.what)
		}
		if l.merge != nil && len(out) > 0 && l.merge(out[len(out)-1], v) {
			continue
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, core.Wrap(core.KindInternal, err, "list %s", l.what)
	}
	return out, nil
}

// cachedTotal is the entry's total, counted if it is not yet.
func (l listQuery[T]) cachedTotal(ctx context.Context, db dbtx, e *listEntry) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.total < 0 {
		n, err := l.total(ctx, db)
		if err != nil {
			return 0, err
		}
		e.total = n
	}
	return e.total, nil
}

// start returns the sort key of row block*stride, finding the starts the
// entry lacks up to it by stepping stride rows from the last one found;
// false when the list has fewer rows.
func (l listQuery[T]) start(ctx context.Context, db dbtx, e *listEntry, terms []orderTerm, block int) ([]any, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cols := make([]string, len(terms))
	for i, t := range terms {
		cols[i] = t.col
	}
	for len(e.starts) <= block {
		if e.ended {
			return nil, false, nil
		}
		where, args := l.where, l.args
		if from := e.starts[len(e.starts)-1]; from != nil {
			where, args = seekFrom(where, args, terms, from)
		}
		key := make([]any, len(terms))
		ptrs := make([]any, len(terms))
		for i := range key {
			ptrs[i] = &key[i]
		}
		err := db.QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+l.from+where.String()+
			orderBy(terms, false)+limitClause(1, l.strideOf()), args...).Scan(ptrs...)
		if errors.Is(err, sql.ErrNoRows) {
			e.ended = true
			return nil, false, nil
		}
		if err != nil {
			return nil, false, core.Wrap(core.KindInternal, err, "find a page of %s", l.what)
		}
		for i, v := range key {
			if b, ok := v.([]byte); ok { // a driver's buffer, reused after Scan
				key[i] = string(b)
			}
		}
		e.starts = append(e.starts, key)
	}
	return e.starts[block], true, nil
}

// keyset reports whether a page in the order of terms can be found from a
// start: an index gives the order (sorting.indexed; finding a start steps
// through it, where without one each start would sort the list), every term
// sorts one way, and none may be NULL (so that one row comparison orders them
// all).
func (s sorting) keyset(terms []orderTerm) bool {
	if !slices.Contains(s.indexed, terms[0].col) {
		return false
	}
	for _, t := range terms {
		if t.nullable || t.desc != terms[0].desc {
			return false
		}
	}
	return true
}

// seekFrom adds to where the condition "at or after start in the order of
// terms": a row value comparison, which both databases answer from an index
// on the terms' columns.
func seekFrom(w where, a args, terms []orderTerm, start []any) (where, args) {
	a = slices.Clip(a) // l's own slices stay as they are
	cols := make([]string, len(terms))
	marks := make([]string, len(terms))
	for i, t := range terms {
		cols[i] = t.col
		marks[i] = a.add(start[i])
	}
	op := ">="
	if terms[0].desc {
		op = "<="
	}
	return append(slices.Clip(w), "("+strings.Join(cols, ", ")+") "+op+" ("+strings.Join(marks, ", ")+")"), a
}

// qualifiedOrder is the ORDER BY of terms on table's columns.
func qualifiedOrder(table string, terms []orderTerm) string {
	q := make([]orderTerm, len(terms))
	for i, t := range terms {
		t.col = table + "." + t.col
		q[i] = t
	}
	return orderBy(q, false)
}

// cacheKey names the list's filter and order at the stamp of its tables.
func (l listQuery[T]) cacheKey(terms []orderTerm, stamp core.Stamp) string {
	var b strings.Builder
	b.WriteString(l.from)
	b.WriteString(l.where.String())
	b.WriteString(orderBy(terms, false))
	for _, a := range l.args {
		b.WriteByte(0)
		fmt.Fprintf(&b, "%T:%v", a, a)
	}
	b.WriteByte(0)
	b.WriteString(string(stamp))
	return b.String()
}

// qualify prefixes every column of a comma-separated list with table.
func qualify(table, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
