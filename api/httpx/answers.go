package httpx

import (
	"bytes"
	"container/list"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hostdeck/core"
)

// AnswersBudget is how many bytes of answers a face's Answers keeps: enough for
// the longest list a face answers whole (10,000 TRS machines with their Nova
// objects, 11 MB) beside many pages of the others.
const AnswersBudget = 32 << 20

// Answers keeps the rendered answers of a face's list routes, each with the
// stamp of the data it shows (core.List.Stamp). A request whose list is
// unchanged since (core.Page.Since) is answered with the bytes kept, after the
// access check and one read of the stamp, which the use case does as for any
// list: nothing kept outlives a change, and nothing is served to a caller the
// use case refuses. The least recently used answers go first once the budget
// is spent.
type Answers struct {
	// mu is read-locked to find an answer, so that requests for kept answers
	// do not queue on each other (on two cores a queue behind a holder that lost
	// its core was the tail of a kept list's latency); the order of use is moved
	// at most once a second per answer (kept.moved).
	mu     sync.RWMutex
	budget int
	size   int
	byKey  map[string]*list.Element
	lru    *list.List // of *kept, the most recent first
	// rendering holds, by key, the answers being rendered: a request for one
	// meanwhile waits for it rather than rendering it too (fifty requests for
	// the 11 MB machine list at once took 600 MB rendering it fifty times).
	rendering map[string]chan struct{}
}

// kept is one answer: its key, the stamp of its data, and what was written.
type kept struct {
	key    string
	stamp  core.Stamp
	header http.Header
	status int
	body   []byte
	moved  atomic.Int64 // Unix nanoseconds it last moved to the front of the order of use
}

// moveEvery is how often at most a kept answer moves to the front of the
// order of use: the order is as right as that, and a request for an answer
// used a moment ago takes no write lock. (A variable for tests.)
var moveEvery = time.Second

// NewAnswers returns an empty Answers that keeps up to budget bytes.
func NewAnswers(budget int) *Answers {
	return &Answers{budget: budget, byKey: map[string]*list.Element{}, lru: list.New(), rendering: map[string]chan struct{}{}}
}

// Listed is a list read for an answer: its stamp, whether it is unchanged since
// the stamp asked about, and, when it changed, how to render it.
type Listed struct {
	Stamp     core.Stamp
	Unchanged bool
	Render    func(w http.ResponseWriter) error
}

// AnswerKey is the key of a list request's answer: where the face is mounted
// and as which host (links carry both), the path, and parts, the rest of what
// the answer depends on (the list's parameters and, where the answer depends
// on who asks, the actor), which the face gives. Credentials stay out of it.
func AnswerKey(r *http.Request, parts ...string) string {
	var b bytes.Buffer
	if r.TLS != nil {
		b.WriteString("https ")
	}
	b.WriteString(r.Host)
	b.WriteByte(0)
	b.WriteString(URLPath(r, r.URL.Path))
	for _, p := range parts {
		b.WriteByte(0)
		b.WriteString(p)
	}
	return b.String()
}

// Serve answers a list request with the answer kept under key while its data
// are unchanged. read reads the list given the stamp of the answer kept (""
// when there is none); a list that changed is rendered, written to w and, when
// it is a 200 with a stamp, kept.
func (a *Answers) Serve(w http.ResponseWriter, key string, read func(since core.Stamp) (Listed, error)) error {
	since := a.stamp(key)
	l, err := read(since)
	if err != nil {
		return err
	}
	if l.Unchanged {
		if a.replay(w, key, since) {
			return nil
		}
		// The answer went (the budget) between the two looks: read it again.
		if l, err = read(""); err != nil {
			return err
		}
	}
	a.mu.Lock()
	if busy, ok := a.rendering[key]; ok {
		a.mu.Unlock()
		<-busy // then the answer it kept, if it is still the data's
		return a.Serve(w, key, read)
	}
	done := make(chan struct{})
	a.rendering[key] = done
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.rendering, key)
		a.mu.Unlock()
		close(done)
	}()
	rec := &recorder{header: http.Header{}}
	if err := l.Render(rec); err != nil {
		return err
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	k := &kept{key: key, stamp: l.Stamp, header: rec.header, status: rec.status, body: rec.body.Bytes()}
	if k.status == http.StatusOK && k.stamp != "" {
		// Kept in a slice of its own length, so that the budget counts what it holds.
		a.keep(&kept{key: key, stamp: l.Stamp, header: rec.header, status: rec.status, body: bytes.Clone(k.body)})
	}
	k.writeTo(w)
	return nil
}

// stamp is the stamp of the answer kept under key, "" when there is none.
func (a *Answers) stamp(key string) core.Stamp {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if el, ok := a.byKey[key]; ok {
		return el.Value.(*kept).stamp
	}
	return ""
}

// replay writes the answer kept under key if its stamp is still stamp.
func (a *Answers) replay(w http.ResponseWriter, key string, stamp core.Stamp) bool {
	a.mu.RLock()
	el, ok := a.byKey[key]
	var k *kept
	if ok && el.Value.(*kept).stamp == stamp {
		k = el.Value.(*kept)
	}
	a.mu.RUnlock()
	if k == nil {
		return false
	}
	if now, last := time.Now().UnixNano(), k.moved.Load(); now-last >= int64(moveEvery) && k.moved.CompareAndSwap(last, now) {
		a.mu.Lock()
		if a.byKey[key] == el { // still kept
			a.lru.MoveToFront(el)
		}
		a.mu.Unlock()
	}
	k.writeTo(w)
	return true
}

func (a *Answers) keep(k *kept) {
	n := len(k.body) + len(k.key)
	if n > a.budget {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if el, ok := a.byKey[k.key]; ok {
		a.size -= el.Value.(*kept).size()
		a.lru.Remove(el)
	}
	k.moved.Store(time.Now().UnixNano())
	a.byKey[k.key] = a.lru.PushFront(k)
	a.size += n
	for a.size > a.budget {
		old := a.lru.Back()
		a.lru.Remove(old)
		delete(a.byKey, old.Value.(*kept).key)
		a.size -= old.Value.(*kept).size()
	}
}

func (k *kept) size() int { return len(k.body) + len(k.key) }

// writeTo writes the answer. Its body is shared by every request it answers and
// never changed. Its length is known, so it goes out with a Content-Length in
// one write rather than in chunks through the server's small buffer.
func (k *kept) writeTo(w http.ResponseWriter) {
	h := w.Header()
	for name, v := range k.header {
		h[name] = append([]string(nil), v...)
	}
	h.Set("Content-Length", strconv.Itoa(len(k.body)))
	w.WriteHeader(k.status)
	w.Write(k.body)
}

// recorder is a ResponseWriter that keeps what is written to it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
