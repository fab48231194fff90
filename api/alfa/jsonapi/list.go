package jsonapi

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// Page sizes of a list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	maxPageNumber   = 1_000_000_000
)

// ListSpec is what one list endpoint accepts: the filter[...] names and the sort
// fields (each also accepted with a leading "-").
type ListSpec struct {
	Filters []string
	Sorts   []string
}

// ListQuery is a parsed list request.
type ListQuery struct {
	Number int               // page[number], 1-based
	Size   int               // page[size]
	Sort   []string          // validated sort fields, "-" for descending
	Filter map[string]string // filter[name] → value
}

// Page is the core page the query asks for.
func (q ListQuery) Page() core.Page {
	return core.Page{Offset: (q.Number - 1) * q.Size, Limit: q.Size, Sort: q.Sort}
}

// FilterPtr returns a pointer to filter[name]'s value, nil when not given.
func (q ListQuery) FilterPtr(name string) *string {
	v, ok := q.Filter[name]
	if !ok {
		return nil
	}
	return &v
}

// FilterError is err as the list's answer: a core KindInvalid about one of the
// filters given (core.CheckFilterValue, for one) is a 400 whose source.parameter
// is filter[name]; anything else is err.
func (q ListQuery) FilterError(err error) error {
	f := core.ErrorField(err)
	if _, ok := q.Filter[f]; !ok || core.ErrorKind(err) != core.KindInvalid {
		return err
	}
	e := ParameterError("filter["+f+"]", "filter[%s]: %s", f, core.ErrorMessage(err))
	e.Cause = err
	return e
}

// ParseList reads page[number] (1-based, default 1), page[size] (default 20, at
// most 100), filter[name] for the names spec allows and sort (a comma list of
// spec's fields, "-" for descending). Anything else in the page and filter
// families, a repeated parameter, and include (not supported) are 400 with
// source.parameter. Parameters outside those families are left to the face.
func ParseList(values url.Values, spec ListSpec) (ListQuery, error) {
	q := ListQuery{Number: 1, Size: DefaultPageSize, Filter: map[string]string{}}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first error reported does not depend on map order
	for _, k := range keys {
		vs := values[k]
		family, member, isFamily := splitFamily(k)
		switch {
		case k == "include":
			return q, ParameterError(k, "include is not supported")
		case k == "sort" || (isFamily && (family == "page" || family == "filter")) || k == "page" || k == "filter":
			if len(vs) > 1 {
				return q, ParameterError(k, "%s is given more than once", k)
			}
		default:
			continue
		}
		v := vs[0]
		switch {
		case k == "sort":
			if len(spec.Sorts) == 0 {
				return q, ParameterError(k, "this list cannot be sorted")
			}
			for _, f := range strings.Split(v, ",") {
				name := strings.TrimPrefix(f, "-")
				if !slices.Contains(spec.Sorts, name) {
					return q, ParameterError(k, "cannot sort by %q; sort fields: %s", f, strings.Join(spec.Sorts, ", "))
				}
				q.Sort = append(q.Sort, f)
			}
		case !isFamily:
			return q, ParameterError(k, "%s must name a member, as %s[...]", k, k)
		case family == "page" && member == "number":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxPageNumber {
				return q, ParameterError(k, "page[number] must be an integer from 1 to %d", maxPageNumber)
			}
			q.Number = n
		case family == "page" && member == "size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxPageSize {
				return q, ParameterError(k, "page[size] must be an integer from 1 to %d", MaxPageSize)
			}
			q.Size = n
		case family == "page":
			return q, ParameterError(k, "unknown pagination parameter %s; use page[number] and page[size]", k)
		case family == "filter":
			if !slices.Contains(spec.Filters, member) {
				if len(spec.Filters) == 0 {
					return q, ParameterError(k, "this list has no filters")
				}
				return q, ParameterError(k, "unknown filter %s; filters: %s", k, strings.Join(spec.Filters, ", "))
			}
			q.Filter[member] = v
		}
	}
	return q, nil
}

// splitFamily splits "filter[name]" into ("filter", "name", true).
func splitFamily(k string) (family, member string, ok bool) {
	i := strings.IndexByte(k, '[')
	if i <= 0 || !strings.HasSuffix(k, "]") {
		return "", "", false
	}
	return k[:i], k[i+1 : len(k)-1], true
}

// ListLinks returns the self and pagination links of a list (the query kept, only
// page[number] and page[size] set) and the meta with the total count. base is the
// path of the list as the client addressed it (see httpx.URLPath).
func ListLinks(r *http.Request, q ListQuery, total int) (Links, map[string]any) {
	base := httpx.URLPath(r, r.URL.Path)
	last := max(1, int(math.Ceil(float64(total)/float64(q.Size))))
	link := func(n int) string {
		v := r.URL.Query()
		v.Set("page[number]", strconv.Itoa(n))
		v.Set("page[size]", strconv.Itoa(q.Size))
		return base + "?" + v.Encode()
	}
	l := Links{"self": link(q.Number), "first": link(1), "last": link(last)}
	if q.Number > 1 {
		l["prev"] = link(min(q.Number-1, last))
	}
	if q.Number < last {
		l["next"] = link(q.Number + 1)
	}
	return l, map[string]any{"total": total}
}
