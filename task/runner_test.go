package task_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/internal/testenv"
	"hostdeck/store/storetest"
	"hostdeck/task"
)

// testOptions are fast settings: short polls, a tiny backoff, a lease long
// enough that it never runs out by accident under -race.
func testOptions(tb testing.TB, owner string) task.Options {
	tb.Helper()
	return task.Options{
		Owner:   owner,
		Workers: 4,
		Lease:   3 * time.Second,
		// Short, but not so short that idle claims (writes) crowd out the rest:
		// under -race one SQLite write takes a few milliseconds.
		Poll:    50 * time.Millisecond,
		Backoff: func(int) time.Duration { return time.Millisecond },
		Log:     slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// running is a Runner started by startRunner.
type running struct {
	*task.Runner
	stop func() error // cancels Run's context and returns what Run returned
}

// startRunner runs a Runner until the test ends or stop is called.
func startRunner(tb testing.TB, s storetest.Store, handlers map[string]core.TaskFunc, periodic []core.PeriodicJob, o task.Options) *running {
	tb.Helper()
	r := task.New(s, handlers, periodic, o)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-errc:
			case <-time.After(15 * time.Second):
				runErr = errors.New("Run did not return 15s after its context was cancelled")
			}
		})
		return runErr
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return &running{Runner: r, stop: stop}
}

// createTask stores a task of kind, changed by opts.
func createTask(tb testing.TB, s storetest.Store, kind string, opts ...func(*core.Task)) *core.Task {
	tb.Helper()
	t := &core.Task{Kind: kind, Creator: "test", RunAt: time.Now(), Payload: json.RawMessage(`{}`)}
	for _, o := range opts {
		o(t)
	}
	if err := s.CreateTask(context.Background(), t); err != nil {
		tb.Fatalf("create task: %v", err)
	}
	if t.ID == "" {
		tb.Fatal("create task: no id assigned")
	}
	return t
}

func maxAttempts(n int) func(*core.Task) { return func(t *core.Task) { t.MaxAttempts = n } }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getTask(tb testing.TB, s storetest.Store, id string) *core.Task {
	tb.Helper()
	t, err := s.GetTask(context.Background(), id)
	if err != nil {
		tb.Fatalf("get task %s: %v", id, err)
	}
	return t
}

// waitDone waits until task id is finished and returns it.
func waitDone(tb testing.TB, s storetest.Store, id string) *core.Task {
	tb.Helper()
	var t *core.Task
	waitFor(tb, "task "+id+" to finish", func() bool {
		t = getTask(tb, s, id)
		return t.Status.Done()
	})
	return t
}

// outcome is the part of a finished task the tests compare.
type outcome struct {
	Status   core.TaskStatus
	Error    string
	Attempts int
}

func outcomeOf(t *core.Task) outcome {
	return outcome{Status: t.Status, Error: t.Error, Attempts: t.Attempts}
}

func TestSuccessRecordsResultAndProgress(t *testing.T) {
	s := newStore(t)
	reported := make(chan struct{})
	proceed := make(chan struct{})
	var gotPayload string
	handlers := map[string]core.TaskFunc{
		"provision": func(ctx context.Context, tk *core.Task, progress func(int, string)) (any, error) {
			gotPayload = string(tk.Payload)
			progress(40, "copying image")
			close(reported)
			<-proceed
			return map[string]string{"ip": "10.0.0.7"}, nil
		},
	}
	startRunner(t, s, handlers, nil, testOptions(t, "r1"))
	tk := createTask(t, s, "provision", func(tk *core.Task) { tk.Payload = json.RawMessage(`{"name":"web1"}`) })

	// A report is written within a second or so (not at once: a task that ends
	// sooner has it written with its outcome).
	<-reported
	var mid *core.Task
	waitFor(t, "the progress report to be written", func() bool {
		mid = getTask(t, s, tk.ID)
		return mid.Progress != 0
	})
	close(proceed)
	if diff := cmp.Diff([]any{core.TaskStarted, 40, "copying image"}, []any{mid.Status, mid.Progress, mid.Message}); diff != "" {
		t.Errorf("while running: status, progress, message (-want +got):\n%s", diff)
	}

	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskSuccess, Attempts: 1}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	var result map[string]string
	if err := json.Unmarshal(done.Result, &result); err != nil {
		t.Fatalf("decode result %q: %v", done.Result, err)
	}
	if diff := cmp.Diff(map[string]string{"ip": "10.0.0.7"}, result); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if gotPayload != `{"name":"web1"}` {
		t.Errorf("handler saw payload %s", gotPayload)
	}
}

// A task that ends before its progress is written records its last report
// with its outcome: the message stays, and the percentage where it failed.
func TestProgressRecordedWithOutcome(t *testing.T) {
	s := newStore(t)
	handlers := map[string]core.TaskFunc{
		"ok": func(ctx context.Context, tk *core.Task, progress func(int, string)) (any, error) {
			progress(10, "creating")
			progress(90, "sending e-mail")
			return nil, nil
		},
		"bad": func(ctx context.Context, tk *core.Task, progress func(int, string)) (any, error) {
			progress(60, "starting")
			return nil, core.Permanent(errors.New("no capacity"))
		},
	}
	startRunner(t, s, handlers, nil, testOptions(t, "r1"))
	ok, bad := createTask(t, s, "ok"), createTask(t, s, "bad")
	type row struct {
		Status   core.TaskStatus
		Progress int
		Message  string
	}
	gotOK, gotBad := waitDone(t, s, ok.ID), waitDone(t, s, bad.ID)
	if diff := cmp.Diff([]row{{core.TaskSuccess, 100, "sending e-mail"}, {core.TaskFailure, 60, "starting"}},
		[]row{{gotOK.Status, gotOK.Progress, gotOK.Message}, {gotBad.Status, gotBad.Progress, gotBad.Message}}); diff != "" {
		t.Errorf("finished tasks (-want +got):\n%s", diff)
	}
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	s := newStore(t)
	var calls atomic.Int32
	handlers := map[string]core.TaskFunc{
		"flaky": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			if calls.Add(1) < 3 {
				return nil, core.Wrap(core.KindUnavailable, errors.New("dial tcp: refused"), "docker unreachable")
			}
			return "ok", nil
		},
	}
	var mu sync.Mutex
	var backoffs []int
	o := testOptions(t, "r1")
	o.Backoff = func(attempt int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		backoffs = append(backoffs, attempt)
		return time.Millisecond
	}
	startRunner(t, s, handlers, nil, o)
	tk := createTask(t, s, "flaky", maxAttempts(5))

	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskSuccess, Attempts: 3}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if string(done.Result) != `"ok"` {
		t.Errorf("result = %s, want \"ok\"", done.Result)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]int{1, 2}, backoffs); diff != "" {
		t.Errorf("backoff attempts (-want +got):\n%s", diff)
	}
}

func TestRetryWaitsForBackoff(t *testing.T) {
	s := newStore(t)
	failed := make(chan struct{}, 1)
	handlers := map[string]core.TaskFunc{
		"flaky": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			failed <- struct{}{}
			return nil, errors.New("transient")
		},
	}
	o := testOptions(t, "r1")
	o.Backoff = func(int) time.Duration { return time.Hour }
	r := startRunner(t, s, handlers, nil, o)
	tk := createTask(t, s, "flaky", maxAttempts(5))

	<-failed
	waitFor(t, "RETRY", func() bool { return getTask(t, s, tk.ID).Status == core.TaskRetry })
	got := getTask(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskRetry, Error: "transient", Attempts: 1}, outcomeOf(got)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if until := time.Until(got.RunAt); until < 50*time.Minute {
		t.Errorf("next attempt in %v, want about an hour", until)
	}
	// Several polls later it has not run again.
	r.Wake()
	time.Sleep(50 * time.Millisecond)
	if n := len(failed); n != 0 {
		t.Errorf("task ran again before its backoff")
	}
}

func TestFailures(t *testing.T) {
	errHandler := func(err error) core.TaskFunc {
		return func(context.Context, *core.Task, func(int, string)) (any, error) { return nil, err }
	}
	tests := []struct {
		name        string
		kind        string // "job" has handler; anything else has none
		handler     core.TaskFunc
		maxAttempts int
		want        outcome
	}{
		{
			name:        "permanent error fails at once",
			handler:     errHandler(core.Permanent(errors.New("image checksum mismatch"))),
			maxAttempts: 5,
			want:        outcome{core.TaskFailure, "image checksum mismatch", 1},
		},
		{
			name:        "invalid kind fails at once with its client-safe message",
			handler:     errHandler(core.Wrap(core.KindInvalid, errors.New("row 7: detail"), "plan %q unknown", "xl")),
			maxAttempts: 5,
			want:        outcome{core.TaskFailure, `plan "xl" unknown`, 1},
		},
		{
			name:        "transient error fails after max attempts",
			handler:     errHandler(fmt.Errorf("start container web1: %w", errors.New("no space left"))),
			maxAttempts: 3,
			want:        outcome{core.TaskFailure, "start container web1: no space left", 3},
		},
		{
			name:        "unavailable error fails after max attempts",
			handler:     errHandler(core.Wrap(core.KindUnavailable, errors.New("dial"), "smtp down")),
			maxAttempts: 2,
			want:        outcome{core.TaskFailure, "smtp down", 2},
		},
		{
			name:        "max attempts 0 means 5",
			handler:     errHandler(errors.New("nope")),
			maxAttempts: 0,
			want:        outcome{core.TaskFailure, "nope", 5},
		},
		{
			name: "panic fails at once",
			handler: func(context.Context, *core.Task, func(int, string)) (any, error) {
				var m map[string]int
				m["x"] = 1 // a real bug, not just panic("…")
				return nil, nil
			},
			maxAttempts: 5,
			want:        outcome{core.TaskFailure, "panic: assignment to entry in nil map", 1},
		},
		{
			name:        "unknown kind",
			kind:        "no_such_kind",
			maxAttempts: 5,
			want:        outcome{core.TaskFailure, `unknown task kind "no_such_kind"`, 1},
		},
		{
			name: "unencodable result",
			handler: func(context.Context, *core.Task, func(int, string)) (any, error) {
				return func() {}, nil
			},
			maxAttempts: 5,
			want:        outcome{core.TaskFailure, "encode result: json: unsupported type: func()", 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			var calls atomic.Int32
			handlers := map[string]core.TaskFunc{
				"job": func(ctx context.Context, tk *core.Task, p func(int, string)) (any, error) {
					calls.Add(1)
					return tt.handler(ctx, tk, p)
				},
			}
			kind := tt.kind
			if kind == "" {
				kind = "job"
			}
			startRunner(t, s, handlers, nil, testOptions(t, "r1"))
			tk := createTask(t, s, kind, maxAttempts(tt.maxAttempts))

			done := waitDone(t, s, tk.ID)
			if diff := cmp.Diff(tt.want, outcomeOf(done)); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			wantCalls := tt.want.Attempts
			if tt.kind != "" {
				wantCalls = 0
			}
			if got := int(calls.Load()); got != wantCalls {
				t.Errorf("handler ran %d times, want %d", got, wantCalls)
			}
		})
	}
}

func TestCancelPendingTaskNeverRuns(t *testing.T) {
	s := newStore(t)
	var mu sync.Mutex
	ran := map[string]bool{}
	handlers := map[string]core.TaskFunc{
		"job": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			mu.Lock()
			defer mu.Unlock()
			ran[tk.ID] = true
			return nil, nil
		},
	}
	cancelled := createTask(t, s, "job")
	if _, err := s.RequestTaskCancel(context.Background(), cancelled.ID, time.Now()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	other := createTask(t, s, "job")
	startRunner(t, s, handlers, nil, testOptions(t, "r1"))

	waitDone(t, s, other.ID)
	got := getTask(t, s, cancelled.ID)
	if diff := cmp.Diff(core.TaskRevoked, got.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(map[string]bool{other.ID: true}, ran); diff != "" {
		t.Errorf("tasks run (-want +got):\n%s", diff)
	}
}

func TestCancelRunningTask(t *testing.T) {
	s := newStore(t)
	started := make(chan struct{})
	stopped := make(chan error, 1)
	handlers := map[string]core.TaskFunc{
		"long": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			close(started)
			<-ctx.Done()
			stopped <- ctx.Err()
			return nil, ctx.Err()
		},
	}
	o := testOptions(t, "r1")
	// Renewed, and so the cancel noticed, every third of it; long enough that a
	// loaded machine (the whole suite under -race) does not lose the lease.
	o.Lease = time.Second
	startRunner(t, s, handlers, nil, o)
	tk := createTask(t, s, "long")

	<-started
	if _, err := s.RequestTaskCancel(context.Background(), tk.ID, time.Now()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskRevoked, Error: "revoked by request", Attempts: 1}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context ended with %v, want context.Canceled", err)
	}
}

func TestLeaseRenewedWhileRunning(t *testing.T) {
	s := newStore(t)
	proceed := make(chan struct{})
	var calls atomic.Int32
	handlers := map[string]core.TaskFunc{
		"slow": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			calls.Add(1)
			select {
			case <-proceed:
				return nil, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}
	o1 := testOptions(t, "r1")
	o1.Lease = time.Second
	startRunner(t, s, handlers, nil, o1)
	tk := createTask(t, s, "slow")
	waitFor(t, "task to start", func() bool { return calls.Load() == 1 })

	// A second runner polls all along; it must not steal a task whose lease is renewed.
	startRunner(t, s, handlers, nil, testOptions(t, "r2"))
	time.Sleep(3 * time.Second) // several lease lengths
	close(proceed)

	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskSuccess, Attempts: 1}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

func TestDeadOwnersTaskRunsAfterLeaseExpires(t *testing.T) {
	s := newStore(t)
	tk := createTask(t, s, "job", maxAttempts(3))
	claimed, err := s.ClaimTasks(context.Background(), "dead", time.Now(), 100*time.Millisecond, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim as dead owner: %d tasks, %v", len(claimed), err)
	}
	claimedAt := time.Now()
	var ranAt atomic.Int64
	handlers := map[string]core.TaskFunc{
		"job": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			ranAt.Store(time.Now().UnixNano())
			return "recovered", nil
		},
	}
	startRunner(t, s, handlers, nil, testOptions(t, "r1"))

	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskSuccess, Attempts: 2}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if after := time.Unix(0, ranAt.Load()).Sub(claimedAt); after < 90*time.Millisecond {
		t.Errorf("ran %v after the dead owner's claim, before its lease ran out", after)
	}
}

func TestAbandonedAfterWorkersDie(t *testing.T) {
	s := newStore(t)
	tk := createTask(t, s, "job", maxAttempts(2))
	// Two workers claim it in turn and die.
	for i := range 2 {
		if i > 0 {
			time.Sleep(25 * time.Millisecond)
		}
		claimed, err := s.ClaimTasks(context.Background(), fmt.Sprintf("dead%d", i), time.Now(), 20*time.Millisecond, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim as dead owner %d: %d tasks, %v", i, len(claimed), err)
		}
	}
	time.Sleep(25 * time.Millisecond)
	var calls atomic.Int32
	handlers := map[string]core.TaskFunc{
		"job": func(context.Context, *core.Task, func(int, string)) (any, error) {
			calls.Add(1)
			return nil, nil
		},
	}
	startRunner(t, s, handlers, nil, testOptions(t, "r1"))

	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskFailure, Error: "abandoned after 2 attempts: worker lost", Attempts: 3}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler ran %d times, want 0", n)
	}
}

func TestCancelRequestedWhileOwnerDeadRevokesWithoutRunning(t *testing.T) {
	s := newStore(t)
	tk := createTask(t, s, "job")
	if claimed, err := s.ClaimTasks(context.Background(), "dead", time.Now(), 50*time.Millisecond, 10); err != nil || len(claimed) != 1 {
		t.Fatalf("claim as dead owner: %d tasks, %v", len(claimed), err)
	}
	if _, err := s.RequestTaskCancel(context.Background(), tk.ID, time.Now()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	var calls atomic.Int32
	handlers := map[string]core.TaskFunc{
		"job": func(context.Context, *core.Task, func(int, string)) (any, error) {
			calls.Add(1)
			return nil, nil
		},
	}
	startRunner(t, s, handlers, nil, testOptions(t, "r1"))

	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskRevoked, Error: "revoked by request", Attempts: 2}, outcomeOf(done)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler ran %d times, want 0", n)
	}
}

// leaseThief is a store on which every lease renewal finds another owner.
type leaseThief struct{ storetest.Store }

func (leaseThief) ExtendTaskLease(context.Context, string, string, time.Time) (*core.Task, error) {
	return nil, core.Errorf(core.KindConflict, "task lease lost")
}

func TestLostLeaseCancelsHandlerAndRecordsNothing(t *testing.T) {
	s := newStore(t)
	stopped := make(chan error, 1)
	handlers := map[string]core.TaskFunc{
		"long": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			<-ctx.Done()
			stopped <- ctx.Err()
			return nil, ctx.Err()
		},
	}
	o := testOptions(t, "r1")
	o.Lease = 60 * time.Millisecond
	r := startRunner(t, leaseThief{s}, handlers, nil, o)
	tk := createTask(t, s, "long")

	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("handler context ended with %v, want context.Canceled", err)
	}
	waitFor(t, "lost lease counted", func() bool { return r.Stats().Lost == 1 })
	got := getTask(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskStarted, Attempts: 1}, outcomeOf(got)); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
}

func TestTwoRunnersRunEachTaskOnce(t *testing.T) {
	s := newStore(t)
	var mu sync.Mutex
	runs := map[string]int{}
	handlers := map[string]core.TaskFunc{
		"job": func(ctx context.Context, tk *core.Task, p func(int, string)) (any, error) {
			mu.Lock()
			runs[tk.ID]++
			mu.Unlock()
			p(50, "half")
			return nil, nil
		},
	}
	o1, o2 := testOptions(t, "r1"), testOptions(t, "r2")
	o1.Log, o2.Log = nil, nil // 200 lines each is noise
	r1 := startRunner(t, s, handlers, nil, o1)
	r2 := startRunner(t, s, handlers, nil, o2)

	const n = 200
	want := map[string]int{}
	for range n {
		tk := createTask(t, s, "job")
		want[tk.ID] = 1
		if len(want)%20 == 0 {
			r1.Wake()
			r2.Wake()
		}
	}
	waitFor(t, "all tasks to succeed", func() bool {
		c, err := s.CountTasksByStatus(context.Background())
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		return c[core.TaskSuccess] == n
	})
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, runs); diff != "" {
		t.Errorf("runs per task (-want +got):\n%s", diff)
	}
	s1, s2 := r1.Stats(), r2.Stats()
	if s1.Succeeded+s2.Succeeded != n {
		t.Errorf("runners succeeded %d+%d tasks, want %d in all", s1.Succeeded, s2.Succeeded, n)
	}
	t.Logf("r1 ran %d, r2 ran %d", s1.Succeeded, s2.Succeeded)
}

func TestPeriodicJobOncePerSlot(t *testing.T) {
	s := newStore(t)
	const every = 2 * time.Second
	var mu sync.Mutex
	runs := map[string]int{}
	handlers := map[string]core.TaskFunc{
		"reconcile": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			mu.Lock()
			defer mu.Unlock()
			runs[tk.ID]++
			return nil, nil
		},
	}
	// Keys name slots by the second, so the runners' clock runs 10 times faster
	// than the real one: a 2s slot lasts 200ms, four polls.
	real0 := time.Now()
	clock := func() time.Time { return real0.Add(10 * time.Since(real0)) }
	jobs := []core.PeriodicJob{{Kind: "reconcile", Every: every}}
	o1, o2 := testOptions(t, "r1"), testOptions(t, "r2")
	o1.Clock, o2.Clock = clock, clock
	o1.Lease, o2.Lease = time.Hour, time.Hour
	start := clock()
	r1 := startRunner(t, s, handlers, jobs, o1)
	r2 := startRunner(t, s, handlers, jobs, o2)
	time.Sleep(time.Second)
	if err := r1.stop(); err != nil {
		t.Fatal(err)
	}
	if err := r2.stop(); err != nil {
		t.Fatal(err)
	}
	end := clock()

	kind := "reconcile"
	tasks, _, err := s.ListTasks(context.Background(), core.TaskFilter{Kind: &kind, Page: core.Page{Limit: 1000}})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	// One task per slot from the one the runners started in to the one they stopped in.
	var want, got []string
	for slot := start.Truncate(every); !slot.After(end); slot = slot.Add(every) {
		want = append(want, fmt.Sprintf("periodic:reconcile:%d", slot.Unix()))
	}
	keys := map[string]bool{}
	for _, tk := range tasks {
		keys[tk.Key] = true
		if tk.Creator != "system" || tk.MaxAttempts != 1 {
			t.Errorf("task %s: creator %q, max attempts %d; want system, 1", tk.ID, tk.Creator, tk.MaxAttempts)
		}
		if tk.Status == core.TaskSuccess && runs[tk.ID] != 1 {
			t.Errorf("task %s ran %d times", tk.ID, runs[tk.ID])
		}
	}
	for _, k := range want {
		if keys[k] {
			got = append(got, k)
		}
	}
	// The last slot may have begun as the runners stopped.
	if len(want) > 0 && !keys[want[len(want)-1]] {
		want = want[:len(want)-1]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slots with a task (-want +got):\n%s", diff)
	}
	if len(tasks) != len(keys) || len(tasks) != len(got) {
		t.Errorf("%d tasks for %d distinct keys, %d expected slots", len(tasks), len(keys), len(got))
	}
}

func TestGracefulShutdownReleasesRunningTask(t *testing.T) {
	s := newStore(t)
	started := make(chan struct{})
	handlers1 := map[string]core.TaskFunc{
		"long": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) {
			close(started)
			<-ctx.Done()
			return nil, fmt.Errorf("copy volume: %w", ctx.Err())
		},
	}
	r1 := startRunner(t, s, handlers1, nil, testOptions(t, "r1"))
	tk := createTask(t, s, "long", maxAttempts(1))
	<-started
	if err := r1.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	got := getTask(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskPending, Attempts: 0}, outcomeOf(got)); diff != "" {
		t.Errorf("after shutdown (-want +got):\n%s", diff)
	}
	if st := r1.Stats(); st.Released != 1 || st.Failed != 0 {
		t.Errorf("stats after shutdown: %+v", st)
	}

	handlers2 := map[string]core.TaskFunc{
		"long": func(ctx context.Context, tk *core.Task, _ func(int, string)) (any, error) { return "done", nil },
	}
	startRunner(t, s, handlers2, nil, testOptions(t, "r2"))
	done := waitDone(t, s, tk.ID)
	if diff := cmp.Diff(outcome{Status: core.TaskSuccess, Attempts: 1}, outcomeOf(done)); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}

func TestWakeClaimsAtOnce(t *testing.T) {
	s := newStore(t)
	handlers := map[string]core.TaskFunc{
		"job": func(context.Context, *core.Task, func(int, string)) (any, error) { return nil, nil },
	}
	o := testOptions(t, "r1")
	o.Poll = time.Hour
	r := startRunner(t, s, handlers, nil, o)
	tk := createTask(t, s, "job")
	r.Wake()
	waitDone(t, s, tk.ID)
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 800 * time.Millisecond, 1200 * time.Millisecond},
		{1, 800 * time.Millisecond, 1200 * time.Millisecond},
		{2, 1600 * time.Millisecond, 2400 * time.Millisecond},
		{3, 3200 * time.Millisecond, 4800 * time.Millisecond},
		{9, 204 * time.Second, 308 * time.Second},
		{10, 240 * time.Second, 360 * time.Second},
		{1000, 240 * time.Second, 360 * time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if d := task.DefaultBackoff(tt.attempt); d < tt.min || d > tt.max {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}

// A handler that ignores its cancelled context cannot hold shutdown past Grace:
// Run returns, the task is handed back, and the log names it.
func TestShutdownAbandonsHandlerIgnoringContext(t *testing.T) {
	s := newStore(t)
	started, unblock := make(chan struct{}), make(chan struct{})
	defer close(unblock)
	handlers := map[string]core.TaskFunc{
		"stuck": func(context.Context, *core.Task, func(int, string)) (any, error) {
			close(started)
			<-unblock // a call that does not take a context
			return nil, nil
		},
	}
	var logs testenv.SyncBuffer
	o := testOptions(t, "r1")
	o.Grace = 200 * time.Millisecond
	o.Log = slog.New(slog.NewTextHandler(&logs, nil))
	r := startRunner(t, s, handlers, nil, o)
	tk := createTask(t, s, "stuck")
	<-started

	began := time.Now()
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took := time.Since(began); took > o.Grace+2*time.Second {
		t.Errorf("Run returned %s after cancel, grace %s", took, o.Grace)
	}
	if got := getTask(t, s, tk.ID); got.Status != core.TaskPending {
		t.Errorf("after shutdown the task is %s, want %s (released)", got.Status, core.TaskPending)
	}
	if out := logs.String(); !strings.Contains(out, "task abandoned at shutdown") || !strings.Contains(out, "id="+tk.ID) {
		t.Errorf("log does not name the abandoned task %s:\n%s", tk.ID, out)
	}
}
