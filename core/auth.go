package core

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// MinPasswordLen is the shortest password hostdeck accepts for its own accounts.
const MinPasswordLen = 8

// loginGuard slows down repeated wrong passwords from one address and remembers
// passwords verified recently, so that per-request Basic auth does not pay argon2id
// on every call. A cached verification is tied to the stored hash: a rotated
// password invalidates it at once.
type loginGuard struct {
	mu       sync.Mutex
	failures map[string]*failures // by source address
	verified map[[32]byte]time.Time
}

type failures struct {
	count int
	until time.Time
}

func newLoginGuard() *loginGuard {
	return &loginGuard{failures: map[string]*failures{}, verified: map[[32]byte]time.Time{}}
}

// freeFailures is how many wrong passwords an address may send before it is slowed down.
const freeFailures = 5

func (g *loginGuard) blocked(source string, now time.Time) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.failures[source]
	if f == nil || !now.Before(f.until) {
		return 0, false
	}
	return f.until.Sub(now), true
}

// fail records a wrong password and returns how many there were in a row.
func (g *loginGuard) fail(source string, now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.failures[source]
	if f == nil {
		f = &failures{}
		g.failures[source] = f
	}
	f.count++
	if f.count >= freeFailures {
		wait := time.Second << min(f.count-freeFailures, 8) // 1s … 256s
		f.until = now.Add(wait)
	}
	return f.count
}

func (g *loginGuard) succeed(source string, key [32]byte, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.failures, source)
	if len(g.verified) > 10000 {
		clear(g.verified)
	}
	g.verified[key] = now
}

// reset forgets the failures recorded under key.
func (g *loginGuard) reset(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.failures, key)
}

func (g *loginGuard) known(key [32]byte, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.verified[key]
	return ok && now.Sub(at) < 10*time.Minute
}

func verifiedKey(hash, password string) [32]byte {
	return sha256.Sum256([]byte(hash + "\x00" + password))
}

// Authenticate checks a user name and password. Wrong credentials are
// KindUnauthenticated; an address that keeps sending them is slowed down
// (KindTooMany) and logged.
func (s *Service) Authenticate(ctx context.Context, name, password, source string) (*User, error) {
	now := s.now()
	if wait, ok := s.guard.blocked(source, now); ok {
		return nil, Errorf(KindTooMany, "too many failed logins from this address; retry in %d s", int(wait.Seconds())+1)
	}
	u, err := s.store.GetUserByName(ctx, name)
	if err != nil && ErrorKind(err) != KindNotFound {
		return nil, authStoreErr(err)
	}
	if u != nil && !u.Disabled {
		key := verifiedKey(u.PasswordHash, password)
		if s.guard.known(key, now) {
			return u, nil
		}
		ok, err := s.hasher.Verify(password, u.PasswordHash)
		if err != nil {
			return nil, Wrap(KindInternal, err, "verify password")
		}
		if ok {
			s.guard.succeed(source, key, now)
			return u, nil
		}
	}
	n := s.guard.fail(source, now)
	s.log.Warn("login failed", "user", name, "source", source, "failures", n)
	return nil, Errorf(KindUnauthenticated, "wrong user name or password")
}

// EnsureAdmin creates the admin account on first start. With an empty password it
// generates one and returns it (to be printed once); an existing account is never
// changed.
func (s *Service) EnsureAdmin(ctx context.Context, name, password string) (generated string, err error) {
	if name == "" {
		name = "admin"
	}
	if _, err := s.store.GetUserByName(ctx, name); err == nil {
		return "", nil
	} else if ErrorKind(err) != KindNotFound {
		return "", err
	}
	if password == "" {
		password = s.newPassword()
		generated = password
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return "", Wrap(KindInternal, err, "hash password")
	}
	u := &User{ID: newID(), Name: name, Role: RoleAdmin, PasswordHash: hash, PasswordChangedAt: s.now().UTC()}
	err = s.store.InTx(ctx, func(q Queries) error {
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, q, "user.create", "user", u.ID, map[string]string{"name": name})
	})
	if ErrorKind(err) == KindConflict { // another replica created it first
		return "", nil
	}
	return generated, err
}

// SetPassword replaces a user's password; the old one stops working at once,
// and the password's age and grace logins start again.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	hash, err := s.hashNewPassword(password)
	if err != nil {
		return err
	}
	return s.storePassword(ctx, userID, hash)
}

// hashNewPassword checks a new password's length and hashes it.
func (s *Service) hashNewPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", Invalid("password", "password must be at least %d characters", MinPasswordLen)
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return "", Wrap(KindInternal, err, "hash password")
	}
	return hash, nil
}

// storePassword stores a new password hash and resets the password policy's
// counters, audited.
func (s *Service) storePassword(ctx context.Context, userID, hash string) error {
	up := UserUpdate{PasswordHash: &hash, PasswordChangedAt: ptr(s.now().UTC()), GraceLoginsUsed: ptr(0)}
	return s.store.InTx(ctx, func(q Queries) error {
		if _, err := q.UpdateUser(ctx, userID, up); err != nil {
			return err
		}
		return s.audit(ctx, q, "user.password", "user", userID, nil)
	})
}

// Authorize is hostdeck's one role check: it says whether u may act with the
// rights of role need (an admin may do anything a member may).
func Authorize(u *User, need Role) error {
	if u.Role == RoleAdmin || u.Role == need {
		return nil
	}
	return Errorf(KindForbidden, "user %s is not allowed to do this (needs role %s)", u.Name, need)
}
