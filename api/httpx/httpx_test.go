package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/httpx/httpxtest"
	"hostdeck/core"
)

// testEnvelope is the error body of the face-like handler of these tests: what
// its one ErrorWriter makes of an error.
type testEnvelope struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeTestError is the test face's ErrorWriter.
func writeTestError(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	msg := core.ErrorMessage(err)
	var he *Error
	if errors.As(err, &he) {
		msg = he.Message
	}
	if status == http.StatusInternalServerError {
		msg = "internal error"
	}
	w.Header().Set("Content-Type", "application/test+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(testEnvelope{Status: status, Code: Code(status), Message: msg})
}

// checkEnvelope asserts that body is the test face's error envelope for status,
// and returns it.
func checkEnvelope(t testing.TB, status int, body []byte) testEnvelope {
	t.Helper()
	var e testEnvelope
	if err := json.Unmarshal(body, &e); err != nil || e.Status != status || e.Code == "" {
		t.Fatalf("not the test envelope of %d: %v: %s", status, err, body)
	}
	return e
}

// testServer is a face-like handler: a router behind Serve, with metrics and logs.
func testServer(t *testing.T) (http.Handler, *prometheus.Registry, *bytes.Buffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err != nil { // a second face shares the collectors
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	rt := NewRouter(nil)
	rt.Handle("GET", "/items", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/test+json")
		json.NewEncoder(w).Encode(map[string]string{"self": URLPath(r, r.URL.Path)})
		return nil
	})
	rt.Handle("POST", "/items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return core.Invalid("name", "bad name")
	})
	rt.Handle("GET", "/items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		if r.PathValue("id") == "boom" {
			panic("boom")
		}
		return errors.New("db password leaked")
	})
	return Serve(rt, Options{Face: "test", Log: log, Metrics: m, WriteError: writeTestError}), reg, &logs
}

func TestServe(t *testing.T) {
	h, reg, logs := testServer(t)
	mux := http.NewServeMux()
	mux.Handle("/pre/", http.StripPrefix("/pre", h))
	mux.Handle("/", h)
	tests := []struct {
		method, path string
		status       int
		allow, code  string
	}{
		{"GET", "/items", 200, "", ""},
		{"GET", "/items/", 200, "", ""},
		{"GET", "/pre/items/", 200, "", ""},
		{"DELETE", "/items", 405, "GET", "method_not_allowed"},
		{"PUT", "/items/1", 405, "GET, POST", "method_not_allowed"},
		{"POST", "/items/1/", 400, "", "invalid"},
		{"GET", "/nope", 404, "", "not_found"},
		{"GET", "/items/1/x", 404, "", "not_found"},
		{"GET", "/items/boom", 500, "", "internal"},
		{"GET", "/items/1", 500, "", "internal"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header.Set("Authorization", "Basic c2VjcmV0OnNlY3JldA==")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s %s = %d, want %d: %s", tt.method, tt.path, w.Code, tt.status, w.Body)
			continue
		}
		if w.Header().Get("Content-Type") != "application/test+json" {
			t.Errorf("%s %s: Content-Type %q: the face's envelope was not used", tt.method, tt.path, w.Header().Get("Content-Type"))
		}
		if tt.allow != "" && w.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, w.Header().Get("Allow"), tt.allow)
		}
		if w.Code >= 400 {
			e := checkEnvelope(t, w.Code, w.Body.Bytes())
			if w.Code == 500 && e.Message != "internal error" {
				t.Errorf("500 message %q", e.Message)
			}
			if want := tt.code; e.Code != want {
				t.Errorf("%s %s: code %q, want %q", tt.method, tt.path, e.Code, want)
			}
		}
		if tt.path == "/pre/items/" && !strings.Contains(w.Body.String(), `"self":"/pre/items"`) {
			t.Errorf("prefix not kept in links: %s", w.Body)
		}
	}

	// One log line per request, with the route pattern; credentials never.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(tests) {
		t.Errorf("%d log lines for %d requests:\n%s", len(lines), len(tests), logs)
	}
	if strings.Contains(logs.String(), "c2VjcmV0") {
		t.Error("credentials logged")
	}
	for _, want := range []string{`"route":"/items/{id}"`, `"route":"unmatched"`, `"face":"test"`, `"panic":"boom"`, `"stack":`, `db password leaked`,
		`"code":"method_not_allowed"`, `"code":"not_found"`, `"code":"invalid"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}

	counts := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "hostdeck_http_requests_total":
				counts[labels["route"]+" "+labels["method"]+" "+labels["code"]] += m.GetCounter().GetValue()
			case "hostdeck_http_request_duration_seconds":
				if labels["face"] != "test" || m.GetHistogram().GetSampleCount() == 0 {
					t.Errorf("histogram %v", labels)
				}
			}
		}
	}
	for key, want := range map[string]float64{
		"/items GET 200": 3, "/items DELETE 405": 1, "/items/{id} PUT 405": 1, "/items/{id} POST 400": 1,
		"unmatched GET 404": 2, "/items/{id} GET 500": 2,
	} {
		if counts[key] != want {
			t.Errorf("requests_total{%s} = %v, want %v (all: %v)", key, counts[key], want, counts)
		}
	}
}

func TestCleanPath(t *testing.T) {
	h, _, _ := testServer(t)
	for _, p := range []string{"/items", "/items/", "/items//", "//items", "/x/../items"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 200 {
			t.Errorf("GET %s = %d: %s", p, w.Code, w.Body)
		}
	}
}

// A ServeMux in front of faces, behind CleanPath, routes the canonical path of a
// sloppy one to the face mounted there (its links under its prefix) instead of
// redirecting.
func TestCleanPathInFrontOfMux(t *testing.T) {
	rt := NewRouter(nil)
	rt.Handle("GET", "/items", func(w http.ResponseWriter, r *http.Request) error {
		fmt.Fprint(w, URLPath(r, r.URL.Path))
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/pre/", http.StripPrefix("/pre", Serve(rt, Options{Prefix: "/pre", WriteError: writeTestError})))
	front := CleanPath(mux)
	for _, p := range []string{"/pre/items", "//pre/items", "/pre//items", "/pre/items//", "/x/../pre/items"} {
		w := httptest.NewRecorder()
		front.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 200 || w.Header().Get("Location") != "" || w.Body.String() != "/pre/items" {
			t.Errorf("GET %s = %d, Location %q: %s", p, w.Code, w.Header().Get("Location"), w.Body)
		}
	}
	// Without it, the ServeMux redirects (the defect CleanPath is for).
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "//pre/items", nil))
	if w.Code < 300 || w.Code > 399 {
		t.Errorf("bare ServeMux: GET //pre/items = %d; CleanPath is no longer needed?", w.Code)
	}
}

// A face's own error writer answers panics, bodies are capped for every face, and
// metrics are registered on the face's Registerer.
func TestServeFaceOptions(t *testing.T) {
	reg := prometheus.NewRegistry()
	var got error
	rt := NewRouter(nil)
	rt.Handle("GET", "/boom", func(w http.ResponseWriter, r *http.Request) error { panic("boom") })
	rt.Handle("POST", "/read", func(w http.ResponseWriter, r *http.Request) error {
		_, got = io.ReadAll(r.Body)
		return got
	})
	h := Serve(rt, Options{Face: "own", Registerer: reg, WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(599)
	}})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 599 || core.ErrorKind(got) != core.KindInternal {
		t.Fatalf("panic: %d %v", rec.Code, got)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/read", strings.NewReader(strings.Repeat("a", MaxBody+1))))
	var tooBig *http.MaxBytesError
	if !errors.As(got, &tooBig) {
		t.Fatalf("oversized body: %d %v", rec.Code, got)
	}
	mfs, err := reg.Gather()
	series := 0
	for _, mf := range mfs {
		if mf.GetName() == "hostdeck_http_requests_total" {
			series = len(mf.GetMetric())
		}
	}
	if err != nil || series != 2 {
		t.Fatalf("request series = %d, %v", series, err)
	}
}

// A request whose client went away is a 499 in the log line and the metrics,
// whatever the face wrote, unless it answered in full or panicked.
func TestServeClientGone(t *testing.T) {
	gone := func(ctx context.Context) context.Context {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return ctx
	}
	tests := []struct {
		name   string
		gone   bool // the client closed the connection (the request context is cancelled)
		handle HandlerFunc
		status int
	}{
		{"store error", true, func(w http.ResponseWriter, r *http.Request) error {
			return core.Wrap(core.KindInternal, r.Context().Err(), "list clients")
		}, 499},
		{"error without the cause", true, func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("driver: interrupted")
		}, 499},
		{"reported unavailable", true, func(w http.ResponseWriter, r *http.Request) error {
			return core.Wrap(core.KindUnavailable, r.Context().Err(), "runtime")
		}, 499},
		{"nothing written", true, func(w http.ResponseWriter, r *http.Request) error { return nil }, 499},
		{"own envelope", true, func(w http.ResponseWriter, r *http.Request) error {
			RecordError(r, errors.New("driver: interrupted"))
			w.WriteHeader(http.StatusBadRequest)
			return nil
		}, 499},
		{"recorded cancellation", false, func(w http.ResponseWriter, r *http.Request) error {
			return fmt.Errorf("call: %w", context.Canceled)
		}, 499},
		{"answered", true, func(w http.ResponseWriter, r *http.Request) error {
			w.Write([]byte("{}"))
			return nil
		}, 200},
		{"panic", true, func(w http.ResponseWriter, r *http.Request) error { panic("boom") }, 500},
		{"failure", false, func(w http.ResponseWriter, r *http.Request) error { return errors.New("disk full") }, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := httpxtest.NewRecorder()
			rt := NewRouter(nil)
			rt.Handle("GET", "/items", tt.handle)
			h := Serve(rt, Options{Face: "test", Log: o.Log, Registerer: o.Registry})
			r := httptest.NewRequest("GET", "/items", nil)
			if tt.gone {
				r = r.WithContext(gone(r.Context()))
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			line, _ := o.RequestLine(t)
			wantLevel, wantCanceled := "INFO", any(true)
			if tt.status != 499 {
				wantCanceled = nil
			}
			if tt.status >= 500 {
				wantLevel = "ERROR"
			}
			if line["status"] != int64(tt.status) || line["canceled"] != wantCanceled || line["level"] != wantLevel {
				t.Errorf("logged %v, want status %d, canceled %v, level %s", line, tt.status, wantCanceled, wantLevel)
			}
			want := map[string]float64{fmt.Sprintf("test /items GET %d", tt.status): 1}
			if got := o.Requests(t); !maps.Equal(got, want) {
				t.Errorf("requests_total = %v, want %v", got, want)
			}
		})
	}
}
