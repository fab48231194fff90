package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// The wire: bodies, ids, query filters, pages and times, as the document's
// DRF service reads and writes them.

// Page sizes (common request parameters).
const (
	defaultPageSize = 10
	maxPageSize     = 1000
)

// maxQueryLen bounds a query filter's value.
const maxQueryLen = 255

// timeLayout is ISO 8601 with a numeric offset ("+00:00", never "Z").
const timeLayout = "2006-01-02T15:04:05-07:00"

// when renders t as the document does.
func when(t time.Time) string { return t.UTC().Format(timeLayout) }

// decode reads r's JSON body into v strictly: one JSON value, no unknown
// field, every field of its type. What is wrong is a 10006 that says so.
func decode(r *http.Request, v any) error {
	raw, err := httpx.ReadBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(raw, v)
}

func decodeBytes(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return invalid("a JSON body is required")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return invalid("%s", jsonProblem(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return invalid("the body holds more than one JSON value")
	}
	return nil
}

// jsonProblem says what is wrong with a body in the client's words.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("the body must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the body ends too early"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "uint", "uint64", "float64", "int32":
		return "a number"
	}
	return k
}

// number is a numeric id: a JSON number, or a string of digits (the
// document's examples write both).
type number int64

func (n *number) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("an id must be a positive number, not %s", b)
	}
	*n = number(v)
	return nil
}

// ref is an element of an id list: {"id": 1}, or the bare id.
type ref struct {
	ID number `json:"id"`
}

func (r *ref) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var v struct {
			ID *number `json:"id"`
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&v); err != nil {
			return err
		}
		if v.ID == nil {
			return errors.New("an element names no id")
		}
		r.ID = *v.ID
		return nil
	}
	return r.ID.UnmarshalJSON(b)
}

// decodeArray reads a body that is an array of T, or one T standing for an
// array of one (the document writes both).
func decodeArray[T any](r *http.Request) ([]T, error) {
	raw, err := httpx.ReadBody(r)
	if err != nil {
		return nil, err
	}
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] != '[' {
		var one T
		if err := decodeBytes(raw, &one); err != nil {
			return nil, err
		}
		return []T{one}, nil
	}
	var many []T
	if err := decodeBytes(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}

// decodeRefs reads a list of ids: a body [{"id": 1}, …], [1, 2] or {"id": 1},
// or ?id=1&id=2 when a DELETE has no body.
func decodeRefs(r *http.Request) ([]int64, error) {
	if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
		if vs := r.URL.Query()["id"]; len(vs) > 0 {
			out := make([]int64, 0, len(vs))
			for _, v := range vs {
				for _, s := range strings.Split(v, ",") {
					n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
					if err != nil || n <= 0 {
						return nil, invalid("id must be a positive number, not %q", s)
					}
					out = append(out, n)
				}
			}
			return out, nil
		}
	}
	refs, err := decodeArray[ref](r)
	if err != nil {
		return nil, err
	}
	if len(refs) > maxPageSize {
		return nil, invalid("at most %d ids at once", maxPageSize)
	}
	out := make([]int64, len(refs))
	for i, x := range refs {
		out[i] = int64(x.ID)
	}
	return out, nil
}

// pathID is the {id} of the route: a positive number, or the record is
// unknown (10004) whatever it is.
func pathID(r *http.Request, what string) (int64, error) {
	s := r.PathValue("id")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, core.NotFound(what, s)
	}
	return n, nil
}

// idsOf turns the numbers of records of kind into their ids; an unknown one
// is a 10004 naming it (what and its number). The use case that then takes
// the ids decides whether the caller may.
func (f *face) idsOf(ctx context.Context, kind core.NumberKind, what string, ns []int64) ([]string, error) {
	out := make([]string, len(ns))
	for i, n := range ns {
		id, err := f.Core.IDOfNumber(ctx, kind, what, n)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// query is a request's query filters.
type query struct{ v url.Values }

func queryOf(r *http.Request) query { return query{r.URL.Query()} }

// str is the first of the names the query sets (aliases of one filter), nil
// when none: trimmed, at most maxQueryLen characters, no control characters.
func (q query) str(names ...string) (*string, error) {
	for _, name := range names {
		if !q.v.Has(name) {
			continue
		}
		v := strings.TrimSpace(q.v.Get(name))
		if len(v) > maxQueryLen {
			return nil, invalid("%s is longer than %d characters", name, maxQueryLen)
		}
		if strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return nil, invalid("%s holds a control character", name)
		}
		return &v, nil
	}
	return nil, nil
}

// flag is a boolean filter: 1/0, true/false.
func (q query) flag(name string) (*bool, error) {
	s, err := q.str(name)
	if s == nil || err != nil {
		return nil, err
	}
	switch strings.ToLower(*s) {
	case "1", "true", "yes":
		t := true
		return &t, nil
	case "0", "false", "no":
		f := false
		return &f, nil
	}
	return nil, invalid("%s must be 0 or 1, not %q", name, *s)
}

// time is a time bound: ISO 8601 (with or without an offset, or a date), or
// Unix seconds.
func (q query) time(names ...string) (*time.Time, error) {
	s, err := q.str(names...)
	if s == nil || err != nil {
		return nil, err
	}
	if n, err := strconv.ParseInt(*s, 10, 64); err == nil {
		t := time.Unix(n, 0).UTC()
		return &t, nil
	}
	// A '+' of an offset sent unescaped in a query reads as a space.
	for _, v := range []string{*s, strings.Replace(*s, " ", "+", 1)} {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return &t, nil
			}
		}
	}
	return nil, invalid("%s must be an ISO 8601 time or Unix seconds, not %q", names[0], *s)
}

// numbers is a filter of ids, repeated or comma-separated.
func (q query) numbers(names ...string) ([]int64, error) {
	var out []int64
	for _, name := range names {
		for _, v := range q.v[name] {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n <= 0 {
					return nil, invalid("%s must hold positive numbers, not %q", name, s)
				}
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// page reads page (or page_number) and page_size: 1 and 10 by default,
// page_size at most 1000. A request with both page and page_number and no
// page_size reads page_number as the size (the instances list's reading).
func (q query) page() (core.Page, int, int, error) {
	num, size := 1, defaultPageSize
	read := func(name string, min, max int) (int, bool, error) {
		s := strings.TrimSpace(q.v.Get(name))
		if s == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min || n > max {
			return 0, false, invalid("%s must be a number from %d to %d, not %q", name, min, max, s)
		}
		return n, true, nil
	}
	page, hasPage, err := read("page", 1, 1<<30)
	if err != nil {
		return core.Page{}, 0, 0, err
	}
	pageNumber, hasNumber, err := read("page_number", 1, 1<<30)
	if err != nil {
		return core.Page{}, 0, 0, err
	}
	pageSize, hasSize, err := read("page_size", 1, maxPageSize)
	if err != nil {
		return core.Page{}, 0, 0, err
	}
	switch {
	case hasPage && hasNumber && !hasSize:
		num = page
		if pageNumber > maxPageSize {
			return core.Page{}, 0, 0, invalid("page_number (the page size here) must be at most %d", maxPageSize)
		}
		size = pageNumber
	case hasPage:
		num = page
	case hasNumber:
		num = pageNumber
	}
	if hasSize {
		size = pageSize
	}
	if num > (1<<31)/size {
		return core.Page{}, 0, 0, invalid("page %d is beyond any list", num)
	}
	return core.Page{Offset: (num - 1) * size, Limit: size}, num, size, nil
}

// listBody is a paginated answer. prev is the document's key, previous DRF's.
type listBody struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Prev     *string `json:"prev"`
	Previous *string `json:"previous"`
	Results  any     `json:"results"`
}

// writeList answers one page of a list: results (a slice, never null), the
// total and relative links to the pages around it that keep the request's
// other query parameters.
func writeList(w http.ResponseWriter, r *http.Request, num, size, total int, results any) {
	body := listBody{Count: total, Results: results}
	link := func(n int) *string {
		v := r.URL.Query()
		v.Del("page_number")
		v.Set("page", strconv.Itoa(n))
		if v.Has("page_size") || size != defaultPageSize {
			v.Set("page_size", strconv.Itoa(size))
		}
		s := sentPath(r) + "?" + v.Encode()
		return &s
	}
	if num*size < total {
		body.Next = link(num + 1)
	}
	if num > 1 {
		last := (total + size - 1) / size
		body.Prev = link(min(num-1, max(last, 1)))
	}
	body.Previous = body.Prev
	writeJSON(w, http.StatusOK, body)
}

// sentPath is the path r was sent to, mount prefix included, as the client
// spelled it.
func sentPath(r *http.Request) string {
	if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		return p
	}
	return httpx.URLPath(r, r.URL.Path)
}

// success is the answer of an action without a body of its own.
func success(w http.ResponseWriter) error {
	writeJSON(w, http.StatusOK, map[string]string{"message": "success"})
	return nil
}
