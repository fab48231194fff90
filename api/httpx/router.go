package httpx

import (
	"net/http"
	"slices"
	"strings"
)

// HandlerFunc is a handler that returns its error instead of writing it
// (tailscale tsweb style): WriteError renders it in the face's envelope.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs f and answers its error, if any, with WriteError.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// Middleware wraps a handler (authentication, for example).
type Middleware func(HandlerFunc) HandlerFunc

// Router routes by ServeMux patterns without methods and dispatches on the method
// itself, so that an unknown path is a 404 *Error and a known path with another
// method a 405 *Error with Allow, both answered in the face's envelope like any
// other error (ServeMux's own answers are text/plain). r.Pattern is the matched
// pattern either way.
type Router struct {
	mux    *http.ServeMux
	routes map[string]map[string]HandlerFunc // pattern → method → handler
	wrap   Middleware
}

// NewRouter returns a Router whose every handler, 404 and 405 included, runs
// inside wrap (which may be nil).
func NewRouter(wrap Middleware) *Router {
	if wrap == nil {
		wrap = func(h HandlerFunc) HandlerFunc { return h }
	}
	return &Router{mux: http.NewServeMux(), routes: map[string]map[string]HandlerFunc{}, wrap: wrap}
}

// Handle routes method and pattern (a ServeMux pattern without method or host) to h.
func (rt *Router) Handle(method, pattern string, h HandlerFunc) {
	ms, ok := rt.routes[pattern]
	if !ok {
		ms = map[string]HandlerFunc{}
		rt.routes[pattern] = ms
		rt.mux.Handle(pattern, rt.wrap(func(w http.ResponseWriter, r *http.Request) error {
			if h, ok := ms[r.Method]; ok {
				return h(w, r)
			}
			allow := make([]string, 0, len(ms))
			for m := range ms {
				allow = append(allow, m)
			}
			slices.Sort(allow)
			e := Errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, pattern, strings.Join(allow, ", "))
			e.Header = http.Header{"Allow": {strings.Join(allow, ", ")}}
			return e
		}))
	}
	ms[method] = h
}

// ServeHTTP routes r; a path no pattern matches is a 404 *Error.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		rt.wrap(func(w http.ResponseWriter, r *http.Request) error {
			return Errorf(http.StatusNotFound, "no such route: %s", r.URL.Path)
		}).ServeHTTP(w, r)
		return
	}
	rt.mux.ServeHTTP(w, r)
}
