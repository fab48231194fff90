package login

import (
	"context"
	"hostdeck/core"
	"sync"
	"time"
)

// loginGuard throttles password checks and remembers passwords verified
// recently, so that per-request Basic auth does not pay argon2id on every call.
//
//   - Per address: freeFailures wrong passwords, then a block of 1 s, 2 s, …
//     256 s after each further one. Checks in flight count against the free
//     ones: a burst from one address waits in line, at most freeFailures
//     checks at a time, so a burst of wrong passwords gets freeFailures hashes
//     computed and the rest refused without one, while a burst of right ones
//     (a classroom behind one NAT address) all log in.
//   - Per account: once accountFreeFailures wrong passwords for one account
//     (from any addresses, none right in between, checks in flight counted)
//     are reached, the account is under attack: an address that sent a wrong
//     password for it is refused for an exponentially growing while, addresses
//     new to it may try one a second between them, and addresses it logged in
//     from before pass as usual. An attack spread over many addresses is
//     slowed to a guess a second; the account's owner still logs in from where
//     they did before, and from anywhere else within a second or two. A right
//     password, or an hour without failures, ends it.
//   - Concurrent checks of the same password against the same hash share one
//     computation (the same guess is one guess; fifty parallel first requests of
//     a Basic-auth client cost one hash).
//
// A cached verification is tied to the stored hash: a new password
// invalidates it at once. Everything is in memory, per process, and bounded.
type loginGuard struct {
	mu       sync.RWMutex // read-locked by refusal, on every cached login
	addrs    map[string]*addrFailures
	accounts map[string]*accountFailures
	flights  map[[32]byte]*flight
	verified map[[32]byte]time.Time
}

// Limits of the guard.
const (
	freeFailures        = 5  // wrong passwords an address may send before it is slowed down
	accountFreeFailures = 20 // wrong passwords an account takes before it is under attack
	freshEvery          = time.Second
	forgetAfter         = time.Hour // failures older than this are forgotten
	maxTracked          = 100_000   // addresses or accounts remembered at most
	maxPerAccount       = 4096      // addresses remembered per account
	verifiedFor         = 10 * time.Minute
)

type addrFailures struct {
	count    int
	inflight int
	until    time.Time
	last     time.Time
	freed    chan struct{} // closed when a check in flight ends; nil when none waits
}

type accountFailures struct {
	count    int
	inflight int
	until    time.Time // addresses that failed for it are refused until
	fresh    time.Time // when the next unknown address may try
	failed   map[string]bool
	known    map[string]bool // addresses the account logged in from
	last     time.Time
}

// flight is a password check in progress; others with the same key wait for it.
type flight struct {
	done chan struct{}
	ok   bool
	err  error
	// abandoned: the check was not made, its caller having gone away while
	// it waited for its turn to hash (set before done closes).
	abandoned bool
}

func newLoginGuard() *loginGuard {
	return &loginGuard{
		addrs: map[string]*addrFailures{}, accounts: map[string]*accountFailures{},
		flights: map[[32]byte]*flight{}, verified: map[[32]byte]time.Time{},
	}
}

// refused is the wait a refused attempt is told to keep (at least a second).
func refused(d time.Duration) time.Duration { return max(d, time.Second) }

// slots is how many checks an address may have in flight: its free failures
// left, or one at a time once it has none (between its blocks).
func (a *addrFailures) slots() int { return max(freeFailures-a.count, 1) }

// take reserves a check for the address (g.mu held). When the address is
// blocked it says how long to wait; when its slots are taken by checks in
// flight it returns a channel closed as one of them ends, to ask again then:
// a burst waits in line, and is refused without a hash once the checks ahead
// of it have failed enough.
func (g *loginGuard) take(source string, now time.Time) (wait time.Duration, queue <-chan struct{}) {
	a := entry(g, g.addrs, source, now)
	if a.inflight == 0 && now.Sub(a.last) > forgetAfter {
		a.count = 0
	}
	if now.Before(a.until) {
		return refused(a.until.Sub(now)), nil
	}
	if a.inflight >= a.slots() {
		if a.freed == nil {
			a.freed = make(chan struct{})
		}
		return 0, a.freed
	}
	a.inflight++
	a.last = now
	return 0, nil
}

// release ends a check taken on a (g.mu held) and wakes those in line.
func (a *addrFailures) release() {
	a.inflight--
	if a.freed != nil {
		close(a.freed)
		a.freed = nil
	}
}

// settle ends a check taken on a with its outcome (g.mu held) and returns the
// failures in a row.
func (a *addrFailures) settle(ok bool, now time.Time) int {
	a.release()
	a.last = now
	if ok {
		a.count, a.until = 0, time.Time{}
		return 0
	}
	a.count++
	if a.count >= freeFailures {
		a.until = now.Add(time.Second << min(a.count-freeFailures, 8)) // 1 s … 256 s
	}
	return a.count
}

// maxQueue is the longest an attempt waits in line for its address's checks
// in flight before it is refused.
const maxQueue = 5 * time.Second

// inLine waits for queue to close (the caller then asks again). It refuses the
// attempt once it has been in line since began for maxQueue, or when the
// caller went away.
func inLine(ctx context.Context, queue <-chan struct{}, began time.Time) error {
	full := core.TooMany(time.Second, "too many logins at once from this address; retry in 1 s")
	left := maxQueue - time.Since(began)
	if left <= 0 {
		return full
	}
	t := time.NewTimer(left)
	defer t.Stop()
	select {
	case <-queue:
		return nil
	case <-t.C:
		return full
	case <-ctx.Done():
		return core.Wrap(core.KindUnavailable, context.Cause(ctx), "login abandoned")
	}
}

// admission is what begin decides about a password check.
type admission struct {
	wait   time.Duration   // refused: retry after wait
	queue  <-chan struct{} // in line: ask again once it closes
	known  bool            // verified within verifiedFor: no check needed
	flight *flight         // the check to wait on, or to run when lead
	lead   bool
}

// begin admits a password check of key (see verifiedKey) for account from
// source: refused while the address or the account's guard says so; known
// when cacheable (the user exists and may log in) and verified recently;
// else a flight to wait on when the same check is already running, or a new
// one the caller must run and end with finish.
func (g *loginGuard) begin(source, account string, key [32]byte, cacheable bool, now time.Time) admission {
	g.mu.Lock()
	defer g.mu.Unlock()
	if wait := g.blocked(source, account, now); wait > 0 {
		return admission{wait: wait}
	}
	acc := entry(g, g.accounts, account, now)
	if acc.inflight == 0 && now.Sub(acc.last) > forgetAfter {
		acc.count, acc.failed = 0, nil
	}
	attacked := acc.count+acc.inflight >= accountFreeFailures && !acc.known[source]
	if at, ok := g.verified[key]; cacheable && ok && now.Sub(at) < verifiedFor {
		return admission{known: true}
	}
	if f := g.flights[key]; f != nil {
		return admission{flight: f}
	}
	if attacked && now.Before(acc.fresh) {
		return admission{wait: refused(acc.fresh.Sub(now))}
	}
	if wait, queue := g.take(source, now); wait > 0 || queue != nil {
		return admission{wait: wait, queue: queue}
	}
	if attacked {
		acc.fresh = now.Add(freshEvery)
	}
	acc.inflight++
	acc.last = now
	f := &flight{done: make(chan struct{})}
	g.flights[key] = f
	return admission{flight: f, lead: true}
}

// blocked is how long an attempt from source for account is refused (g.mu
// held): while the address is blocked, and while the account is under attack
// and the address failed for it; 0 when it is not.
func (g *loginGuard) blocked(source, account string, now time.Time) time.Duration {
	if a := g.addrs[source]; a != nil && now.Before(a.until) {
		return refused(a.until.Sub(now))
	}
	acc := g.accounts[account]
	if acc == nil || acc.inflight == 0 && now.Sub(acc.last) > forgetAfter {
		return 0
	}
	attacked := acc.count+acc.inflight >= accountFreeFailures && !acc.known[source]
	if attacked && acc.failed[source] && now.Before(acc.until) {
		return refused(acc.until.Sub(now))
	}
	return 0
}

// refusal is blocked, for a login the cache of credentials answers: a right
// password is refused from where the guard refuses it, cached or not.
func (g *loginGuard) refusal(source, account string, now time.Time) time.Duration {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.blocked(source, account, now)
}

// finish records the outcome of a check begun as its lead (err: it could not
// be made, which counts as neither) and wakes those waiting on it. It returns
// the address's failures in a row.
func (g *loginGuard) finish(source, account string, key [32]byte, f *flight, ok bool, err error, now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.flights, key)
	f.ok, f.err = ok, err
	close(f.done)
	a, acc := g.addrs[source], g.accounts[account]
	acc.inflight--
	if err != nil {
		a.release()
		return a.count
	}
	n := a.settle(ok, now)
	acc.last = now
	if ok {
		acc.count, acc.until, acc.failed = 0, time.Time{}, nil
		if acc.known == nil {
			acc.known = map[string]bool{}
		}
		if len(acc.known) < maxPerAccount {
			acc.known[source] = true
		}
		if len(g.verified) > maxTracked {
			clear(g.verified)
		}
		g.verified[key] = now
		return 0
	}
	acc.count++
	if acc.count >= accountFreeFailures {
		acc.until = now.Add(time.Second << min(acc.count-accountFreeFailures, 10)) // 1 s … 17 min
		if acc.failed == nil {
			acc.failed = map[string]bool{}
		}
		if len(acc.failed) < maxPerAccount {
			acc.failed[source] = true
		}
	}
	return n
}

// wait blocks until f ends, or ctx does (the caller went away); abandoned
// says f's own caller went away before the check was made.
func (f *flight) wait(ctx context.Context) (ok, abandoned bool, err error) {
	select {
	case <-f.done:
		return f.ok, f.abandoned, f.err
	case <-ctx.Done():
		return false, false, core.Wrap(core.KindUnavailable, context.Cause(ctx), "password check abandoned")
	}
}

// entry is m's entry of key, made when missing (g.mu held).
func entry[T any](g *loginGuard, m map[string]*T, key string, now time.Time) *T {
	e := m[key]
	if e == nil {
		g.sweep(now)
		e = new(T)
		m[key] = e
	}
	return e
}

// sweep forgets what is older than forgetAfter once a map is full; called
// with g.mu held, before adding an entry.
func (g *loginGuard) sweep(now time.Time) {
	if len(g.addrs) >= maxTracked {
		for k, a := range g.addrs {
			if a.inflight == 0 && now.Sub(a.last) > forgetAfter {
				delete(g.addrs, k)
			}
		}
		if len(g.addrs) >= maxTracked { // all recent: keep the blocked ones
			for k, a := range g.addrs {
				if a.inflight == 0 && !now.Before(a.until) {
					delete(g.addrs, k)
				}
			}
		}
	}
	if len(g.accounts) >= maxTracked {
		for k, acc := range g.accounts {
			if acc.inflight == 0 && (now.Sub(acc.last) > forgetAfter || !now.Before(acc.until)) {
				delete(g.accounts, k)
			}
		}
	}
}

// takeKey and settleKey throttle a check by key alone (a TOTP passcode per
// user): freeFailures, then the same blocks, with checks in flight counted.
func (g *loginGuard) takeKey(key string, now time.Time) (time.Duration, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.take(key, now)
}

// settleKey ends a check taken with takeKey; a nil ok is a check that could
// not be made, which counts as neither.
func (g *loginGuard) settleKey(key string, ok *bool, now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.addrs[key]
	if ok == nil {
		a.release()
		return a.count
	}
	return a.settle(*ok, now)
}
