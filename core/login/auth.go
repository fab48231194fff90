package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"hostdeck/core"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// checkPassword checks a user name and password. Wrong credentials are
// KindUnauthenticated; the login guard (throttle.go) refuses attempts
// past its limits with KindTooMany and the time to wait, before any hash is
// computed. An unknown or disabled user costs the same work as a wrong
// password, so the answer's timing does not tell which names exist. Logins
// reach it through LoginPassword (login.go).
func (s *Service) checkPassword(ctx context.Context, name, password, source string) (*core.User, error) {
	now := s.Now()
	account := throttleKey(name)
	var u *core.User
	if core.CheckName("name", name, core.MaxNameLen) == nil {
		var err error
		if u, err = s.store.GetUserByName(ctx, name); err != nil && core.ErrorKind(err) != core.KindNotFound {
			return nil, authStoreErr(err)
		}
	}
	if u != nil && u.Disabled {
		u = nil
	}
	var hash string
	if u != nil {
		hash = u.PasswordHash
	} else {
		var err error
		if hash, err = s.dummyHash(ctx); err != nil {
			return nil, err
		}
	}
	key := s.cache.sum("verified", hash, password) // a check of password against hash, in the guard's cache and flights
	var ok bool
	var err error
	for again := true; again; {
		again = false
		adm := s.guard.begin(source, account, key, u != nil, now)
		for began := time.Now(); adm.queue != nil; adm = s.guard.begin(source, account, key, u != nil, s.Now()) {
			if err := inLine(ctx, adm.queue, began); err != nil {
				return nil, err
			}
		}
		switch {
		case adm.wait > 0:
			return nil, core.TooMany(adm.wait, "too many failed logins; retry in %d s", core.Seconds(adm.wait))
		case adm.known:
			return u, nil
		case adm.lead:
			ok, err = s.Hasher.Verify(ctx, password, hash)
			if err != nil {
				err = hashErr(ctx, err, "verify password")
				adm.flight.abandoned = ctx.Err() != nil
			}
			n := s.guard.finish(source, account, key, adm.flight, ok, err, s.Now())
			if err == nil && (!ok || u == nil) {
				s.Log.Warn("login failed", "user", core.LogText(name), "source", source, "failures", n)
			}
		default:
			// When the check waited on was given up by its caller before it
			// was made, this one makes it anew.
			ok, again, err = adm.flight.wait(ctx)
			now = s.Now()
		}
	}
	if err != nil {
		return nil, err
	}
	if !ok || u == nil {
		return nil, core.Errorf(core.KindUnauthenticated, "wrong user name or password")
	}
	return u, nil
}

// throttleKey is the login guard's key of an account name: the name, or its
// hash when it is too long to keep.
func throttleKey(name string) string {
	if len(name) <= core.MaxNameLen {
		return name
	}
	h := sha256.Sum256([]byte(name))
	return string(h[:])
}

// dummyHash is a hash of a random password made with the service's hasher,
// verified against when the user is unknown so that it costs the same. It is
// made once, by the first login that needs it.
func (s *Service) dummyHash(ctx context.Context) (string, error) {
	s.dummyMu.Lock()
	defer s.dummyMu.Unlock()
	if s.dummy == "" {
		h, err := s.Hasher.Hash(ctx, rand.Text())
		if err != nil {
			return "", hashErr(ctx, err, "dummy password hash")
		}
		s.dummy = h
	}
	return s.dummy, nil
}

// hashErr is the error of a hash that could not be computed: KindUnavailable
// when ctx ended while it waited for its turn (the caller went away, or its
// deadline passed: the server is busy hashing), else KindInternal.
func hashErr(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return core.Wrap(core.KindUnavailable, err, "%s abandoned", what)
	}
	return core.Wrap(core.KindInternal, err, "%s", what)
}

// SetPassword replaces a user's password; the old one stops working at once,
// with every token and session it opened, and the password's age and grace
// logins start again. Setting a password without the current one is an
// administrator's act (user.password), even on one's own account: a user
// changes its own with ChangePassword.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	if err := s.Check(ctx, core.ActionUserPassword, core.UserResource(userID)); err != nil {
		return err
	}
	up, err := s.passwordUpdate(ctx, password)
	if err != nil {
		return err
	}
	return s.storePassword(ctx, userID, up)
}

// Passwords are checked by one policy, whichever face sets them.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// CheckPassword is hostdeck's password policy: MinPasswordLen to
// MaxPasswordLen characters of valid UTF-8, no control characters.
func CheckPassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		return core.Invalid("password", "password must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return core.Invalid("password", "password must be at most %d characters", MaxPasswordLen)
	}
	if !utf8.ValidString(password) || strings.IndexFunc(password, unicode.IsControl) >= 0 {
		return core.Invalid("password", "password must be text without control characters")
	}
	return nil
}

// passwordUpdate checks a new password against the policy and hashes it, as
// the update that stores it: the hash, the time of the change (tokens issued
// before it are refused from then on: lookupToken) and the grace logins reset.
func (s *Service) passwordUpdate(ctx context.Context, password string) (core.UserUpdate, error) {
	if err := CheckPassword(password); err != nil {
		return core.UserUpdate{}, err
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return core.UserUpdate{}, hashErr(ctx, err, "hash password")
	}
	return core.UserUpdate{PasswordHash: &hash, PasswordChangedAt: core.Ptr(s.Now().UTC()), GraceLoginsUsed: core.Ptr(0)}, nil
}

// PasswordChange is passwordUpdate of *password, or no change when it is nil:
// the password of an edit of a user (core/identity, core/tenancy), so that
// every password set anywhere passes the one policy.
func (s *Service) PasswordChange(ctx context.Context, password *string) (core.UserUpdate, error) {
	if password == nil {
		return core.UserUpdate{}, nil
	}
	return s.passwordUpdate(ctx, *password)
}

// SetNewPassword gives a user about to be created its password, by the same
// policy (core/identity, core/tenancy).
func (s *Service) SetNewPassword(ctx context.Context, u *core.User, password string) error {
	up, err := s.passwordUpdate(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordChangedAt = *up.PasswordHash, *up.PasswordChangedAt
	return nil
}

// storePassword stores a password update, audited; the old password and
// what it opened end in this process's cache at once.
func (s *Service) storePassword(ctx context.Context, userID string, up core.UserUpdate) error {
	defer s.CredentialsChanged()
	return core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := q.UpdateUser(ctx, userID, up); err != nil {
			return err
		}
		return s.Audit(ctx, q, "user.password", "user", userID, nil)
	})
}
