package login

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"hostdeck/core"
)

// This file holds the cache of credentials verified a moment ago, so that a
// request presenting a credential that was right then costs a map lookup
// rather than store reads (and, for a password, an argon2id): a token by the
// hash of its secret, and a password sent with every request (HTTP Basic, the
// panel's authinfo) by its user name and a keyed hash of the password. Only
// credentials that succeeded enter it; wrong ones go through the login
// throttle and argon2id every time.
//
// It stays right by two rules:
//   - In this process, at once: every use case that commits a change that may
//     end a credential or change what it proves (a password set, a user
//     renamed, disabled or deleted, a token revoked, a second factor added, a
//     role granted, a project and its roles removed) calls CredentialsChanged
//     after the commit, which ends every cached credential. An entry is tied
//     to the generation it was read in, taken before the store was read, so a
//     read that raced with the change is never kept.
//   - Across replicas (another process changed the store), within CachedFor:
//     an entry is trusted for CachedFor from before the store read it came
//     from, and then read again. What depends on the clock alone (a token's
//     expiry, its idle timeout) is checked on every use.
//
// A token with an idle timeout records its use in the store at most every
// TouchEvery (rather than on every request); this process measures idleness
// from its own latest use, another replica from the one stored, which is up to
// TouchEvery older.

// Bounds of the credential cache.
const (
	// CachedFor is how long a verified credential is trusted without reading
	// the store again: the longest a change committed by another replica takes
	// to end it here.
	CachedFor = 2 * time.Second
	// TouchEvery is how often at most the use of a token with an idle timeout
	// is written to the store.
	TouchEvery = 5 * time.Second
	// maxCached bounds each kind of entry; past it an arbitrary one goes.
	maxCached = 10_000
)

// credentialCache is the cache; its zero value is not usable (newCredentialCache).
type credentialCache struct {
	gen       atomic.Uint64 // bumped by CredentialsChanged
	key       []byte        // of the keyed hash of passwords, random per process
	mu        sync.RWMutex
	tokens    map[string]*cachedToken
	passwords map[[32]byte]*cachedPassword
}

func newCredentialCache() *credentialCache {
	return &credentialCache{key: []byte(rand.Text()), tokens: map[string]*cachedToken{}, passwords: map[[32]byte]*cachedPassword{}}
}

// cachedToken is a token found valid in the store at at, in generation gen,
// with its user. token and user are never changed: callers get copies.
type cachedToken struct {
	gen     uint64
	at      time.Time
	token   *core.Token
	user    *core.User
	lastUse atomic.Int64 // Unix nanoseconds of the latest use in this process
	touched atomic.Int64 // Unix nanoseconds of the use last written to the store
}

// cachedPassword is a password login that succeeded at at, in generation gen.
type cachedPassword struct {
	gen  uint64
	at   time.Time
	user *core.User
}

// CredentialsChanged ends every credential this process has cached. A use
// case calls it after it commits (or tried to commit) a change that may end a
// credential or change what it proves: a user's password, name, enabling or
// deletion, a token's revocation, a second factor added, a role granted on a
// project or a project's roles removed. Other replicas' caches end theirs
// within CachedFor.
func (s *Service) CredentialsChanged() { s.cache.gen.Add(1) }

// sum is a keyed hash of parts, each ended by a NUL: the key of a cached
// password and of the login guard's verified checks, so that what the process
// holds in memory cannot be guessed offline at the speed of SHA-256.
func (c *credentialCache) sum(parts ...string) [32]byte {
	m := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// fresh reports whether an entry of generation gen read at at may still be
// trusted at now.
func (c *credentialCache) fresh(gen uint64, at, now time.Time) bool {
	return gen == c.gen.Load() && now.Sub(at) < CachedFor && !now.Before(at)
}

// token returns the trusted entry of the token whose secret hashes to hash,
// or nil.
func (c *credentialCache) token(hash string, now time.Time) *cachedToken {
	c.mu.RLock()
	e := c.tokens[hash]
	c.mu.RUnlock()
	if e == nil || !c.fresh(e.gen, e.at, now) {
		return nil
	}
	return e
}

// lastUse is the latest use this process saw of the token id whose secret
// hashes to hash, trusted or not (zero when it saw none): a token's idleness
// counts from it when later than the stored use.
func (c *credentialCache) lastUse(hash, id string) time.Time {
	c.mu.RLock()
	e := c.tokens[hash]
	c.mu.RUnlock()
	if e == nil || e.token.ID != id {
		return time.Time{}
	}
	return time.Unix(0, e.lastUse.Load())
}

// putToken caches t and u, found valid at at in generation gen and used at
// at; touched is the use the store holds.
func (c *credentialCache) putToken(hash string, gen uint64, at time.Time, t *core.Token, u *core.User, touched time.Time) {
	tc, uc := *t, *u
	e := &cachedToken{gen: gen, at: at, token: &tc, user: &uc}
	e.lastUse.Store(at.UnixNano())
	e.touched.Store(touched.UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	put(c.tokens, hash, e)
}

// dropToken forgets e, the entry of hash.
func (c *credentialCache) dropToken(hash string, e *cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens[hash] == e {
		delete(c.tokens, hash)
	}
}

// use records a use of e at now.
func (e *cachedToken) use(now time.Time) {
	n := now.UnixNano()
	for {
		old := e.lastUse.Load()
		if n <= old || e.lastUse.CompareAndSwap(old, n) {
			return
		}
	}
}

// touchDue reports whether a use at now is to be written to the store (the
// last written is TouchEvery old), claiming it so that concurrent requests
// write it once; it returns the claim's undo for a write that failed.
func (e *cachedToken) touchDue(now time.Time) (bool, func()) {
	old := e.touched.Load()
	if now.Sub(time.Unix(0, old)) < TouchEvery || !e.touched.CompareAndSwap(old, now.UnixNano()) {
		return false, nil
	}
	return true, func() { e.touched.CompareAndSwap(now.UnixNano(), old) }
}

// password returns the user of the trusted password login of key, or nil.
func (c *credentialCache) password(key [32]byte, now time.Time) *core.User {
	c.mu.RLock()
	e := c.passwords[key]
	c.mu.RUnlock()
	if e == nil || !c.fresh(e.gen, e.at, now) {
		return nil
	}
	u := *e.user
	return &u
}

// putPassword caches a password login of key as u, which succeeded from a
// read at at in generation gen.
func (c *credentialCache) putPassword(key [32]byte, gen uint64, at time.Time, u *core.User) {
	uc := *u
	c.mu.Lock()
	defer c.mu.Unlock()
	put(c.passwords, key, &cachedPassword{gen: gen, at: at, user: &uc})
}

// put sets m[k] = v, first letting an arbitrary entry go when m is full (c.mu
// held).
func put[K comparable, V any](m map[K]V, k K, v V) {
	if _, ok := m[k]; !ok && len(m) >= maxCached {
		for old := range m {
			delete(m, old)
			break
		}
	}
	m[k] = v
}
