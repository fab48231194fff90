package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// list is a list whose data are at stamp, rendered as body with status.
type list struct {
	stamp   core.Stamp
	body    string
	status  int
	asked   []core.Stamp // the Since of every read
	renders int
}

func (l *list) read(since core.Stamp) (httpx.Listed, error) {
	l.asked = append(l.asked, since)
	return httpx.Listed{Stamp: l.stamp, Unchanged: since != "" && since == l.stamp, Render: func(w http.ResponseWriter) error {
		l.renders++
		w.Header().Set("Content-Type", "text/plain")
		if l.status != 0 {
			w.WriteHeader(l.status)
		}
		_, err := w.Write([]byte(l.body))
		return err
	}}, nil
}

func serve(t *testing.T, a *httpx.Answers, key string, l *list) string {
	t.Helper()
	w := httptest.NewRecorder()
	if err := a.Serve(w, key, l.read); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("header = %v", w.Header())
	}
	return w.Body.String()
}

func TestAnswers(t *testing.T) {
	a := httpx.NewAnswers(100)
	l := &list{stamp: "s1", body: "one"}
	if got := serve(t, a, "k", l); got != "one" || l.renders != 1 {
		t.Fatalf("first = %q, %d renders", got, l.renders)
	}
	// Unchanged: the bytes kept, not rendered again.
	l.body = "not this"
	if got := serve(t, a, "k", l); got != "one" || l.renders != 1 || l.asked[1] != "s1" {
		t.Fatalf("again = %q, %d renders, asked %v", got, l.renders, l.asked)
	}
	// Changed: rendered and kept anew.
	l.stamp, l.body = "s2", "two"
	if got := serve(t, a, "k", l); got != "two" || l.renders != 2 {
		t.Fatalf("changed = %q, %d renders", got, l.renders)
	}
	if got := serve(t, a, "k", l); got != "two" || l.renders != 2 {
		t.Fatalf("changed, again = %q, %d renders", got, l.renders)
	}
	// Another key is another answer.
	other := &list{stamp: "s2", body: "other"}
	if got := serve(t, a, "k2", other); got != "other" || other.asked[0] != "" {
		t.Fatalf("other key = %q, asked %v", got, other.asked)
	}

	// Not kept: an answer that is not a 200, one without a stamp, one over the
	// budget.
	for _, l := range []*list{
		{stamp: "s1", body: "failed", status: http.StatusInternalServerError},
		{body: "no stamp"},
		{stamp: "s1", body: strings.Repeat("x", 101)},
	} {
		serve(t, a, "not kept", l)
		serve(t, a, "not kept", l)
		if l.renders != 2 || l.asked[1] != "" {
			t.Fatalf("%q: %d renders, asked %v", l.body, l.renders, l.asked)
		}
	}
}

// The least recently used answers go once the budget is spent, and an answer
// that went while its list was read unchanged is read again. (An answer's use
// moves it at most once a second; here every use does.)
func TestAnswersBudget(t *testing.T) {
	defer httpx.SetMoveEvery(0)()
	a := httpx.NewAnswers(100)
	x := &list{stamp: "s", body: strings.Repeat("x", 40)}
	y := &list{stamp: "s", body: strings.Repeat("y", 40)}
	z := &list{stamp: "s", body: strings.Repeat("z", 40)}
	serve(t, a, "x", x)
	serve(t, a, "y", y)
	serve(t, a, "x", x) // x is the most recent now
	serve(t, a, "z", z) // y goes
	serve(t, a, "x", x)
	serve(t, a, "y", y)
	if x.renders != 1 || y.renders != 2 || z.renders != 1 {
		t.Fatalf("renders x %d, y %d, z %d", x.renders, y.renders, z.renders)
	}

	evicting := &list{stamp: "s", body: "kept"}
	serve(t, a, "e", evicting)
	read := func(since core.Stamp) (httpx.Listed, error) {
		if since != "" {
			big := &list{stamp: "s", body: strings.Repeat("b", 95)}
			serve(t, a, "big", big) // takes the whole budget
		}
		return evicting.read(since)
	}
	w := httptest.NewRecorder()
	if err := a.Serve(w, "e", read); err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != "kept" || evicting.renders != 2 || len(evicting.asked) != 3 || evicting.asked[2] != "" {
		t.Fatalf("body %q, %d renders, asked %v", w.Body, evicting.renders, evicting.asked)
	}
}

// Requests for an answer being rendered wait for it and take it: a long list
// asked for by many at once is rendered once.
func TestAnswersRenderOnce(t *testing.T) {
	a := httpx.NewAnswers(1 << 20)
	var mu sync.Mutex
	renders := 0
	release := make(chan struct{})
	read := func(since core.Stamp) (httpx.Listed, error) {
		return httpx.Listed{Stamp: "s1", Unchanged: since == "s1", Render: func(w http.ResponseWriter) error {
			mu.Lock()
			renders++
			mu.Unlock()
			<-release
			_, err := w.Write([]byte("long"))
			return err
		}}, nil
	}
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Go(func() {
			w := httptest.NewRecorder()
			if err := a.Serve(w, "k", read); err != nil {
				t.Error(err)
			}
			bodies[i] = w.Body.String()
		})
	}
	time.Sleep(50 * time.Millisecond) // every request is in by now, waiting on the first
	close(release)
	wg.Wait()
	if renders != 1 {
		t.Fatalf("%d renders, want 1", renders)
	}
	for i, b := range bodies {
		if b != "long" {
			t.Fatalf("request %d got %q", i, b)
		}
	}
}
