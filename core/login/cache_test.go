package login_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/core/secret"
	"hostdeck/core/tenancy"
	"hostdeck/internal/testenv"
)

// countingStore counts the reads a login makes and the uses of tokens it
// records.
type countingStore struct {
	testenv.Store
	reads, touches atomic.Int64
}

func (s *countingStore) GetUserByName(ctx context.Context, name string) (*core.User, error) {
	s.reads.Add(1)
	return s.Store.GetUserByName(ctx, name)
}

func (s *countingStore) GetUser(ctx context.Context, id string) (*core.User, error) {
	s.reads.Add(1)
	return s.Store.GetUser(ctx, id)
}

func (s *countingStore) GetTokenByHash(ctx context.Context, hash string) (*core.Token, error) {
	s.reads.Add(1)
	return s.Store.GetTokenByHash(ctx, hash)
}

func (s *countingStore) ListCredentials(ctx context.Context, f core.CredentialFilter) ([]*core.Credential, int, error) {
	s.reads.Add(1)
	return s.Store.ListCredentials(ctx, f)
}

func (s *countingStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	s.touches.Add(1)
	return s.Store.TouchToken(ctx, id, at)
}

// countingHasher is argon2id at test cost that counts the hashes it verifies.
type countingHasher struct {
	secret.Hasher
	verified atomic.Int64
}

func (h *countingHasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	h.verified.Add(1)
	return h.Hasher.Verify(ctx, password, hash)
}

// cacheEnv is an environment on SQLite whose store reads and hashes are
// counted, on a clock the test moves.
type cacheEnv struct {
	*testenv.Env
	st  *countingStore
	h   *countingHasher
	clk *testenv.Clock
}

func newCacheEnv(t *testing.T, cfg core.Config) *cacheEnv {
	t.Helper()
	c := &cacheEnv{
		st:  &countingStore{Store: testenv.SQLite(t)},
		h:   &countingHasher{Hasher: secret.Hasher{Params: secret.TestParams}},
		clk: testenv.NewClock(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)),
	}
	c.Env = testenv.NewWith(t, testenv.Options{Store: c.st, Hasher: c.h, Clock: c.clk.Now, Config: cfg})
	return c
}

// user creates a member named name whose password is name + "-password".
func (c *cacheEnv) user(t *testing.T, name string) *core.User {
	t.Helper()
	pw := name + "-password"
	u, err := c.Identity.CreateUser(c.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

// basic is a password sent with a request (HTTP Basic) from source.
func basic(l *login.Service, name, password, source string) (*login.Login, error) {
	return l.LoginPassword(context.Background(), login.PasswordLogin{UserName: name, Password: password}, login.Origin{Face: "test", Source: source})
}

// bearer is a request presenting the API token sec.
func bearer(l *login.Service, sec string) (*login.Login, error) {
	return l.LoginToken(context.Background(), core.TokenAPI, sec, testenv.Origin)
}

// session is a request presenting the panel session sec.
func session(l *login.Service, sec string) (*login.Login, error) {
	return l.LoginToken(context.Background(), core.TokenPanel, sec, testenv.Origin)
}

func wantReason(t *testing.T, what string, err error, kind core.Kind, reason string) {
	t.Helper()
	if core.ErrorKind(err) != kind || core.ErrorReason(err) != reason {
		t.Fatalf("%s: %v (kind %q, reason %q), want %q/%q", what, err, core.ErrorKind(err), core.ErrorReason(err), kind, reason)
	}
}

func must(t *testing.T, what string, l *login.Login, err error) *login.Login {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return l
}

// A credential that was right a moment ago costs no store read and no hash:
// a token, a panel session, and a password sent with every request. Once
// CachedFor has passed, the store is read again (and the password, verified
// within the login guard's window, is still not hashed again).
func TestCachedCredentialsReadNothing(t *testing.T) {
	c := newCacheEnv(t, core.Config{})
	c.user(t, "alice")
	tok := c.Token(t, "alice", "alice-password")
	l, err := c.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "alice", Password: "alice-password", Opens: core.TokenPanel}, testenv.Origin)
	sess := must(t, "panel login", l, err).Secret
	must(t, "basic", nil, second(basic(c.Login, "alice", "alice-password", "192.0.2.1")))
	must(t, "token", nil, second(bearer(c.Login, tok)))
	must(t, "session", nil, second(session(c.Login, sess)))

	c.st.reads.Store(0)
	c.h.verified.Store(0)
	for i := range 100 {
		c.clk.Add(login.CachedFor / 200)
		if l, err := basic(c.Login, "alice", "alice-password", "192.0.2.1"); err != nil || l.User.Name != "alice" || l.Actor.Name != "alice" {
			t.Fatalf("basic %d: %+v, %v", i, l, err)
		}
		if l, err := bearer(c.Login, tok); err != nil || l.User.Name != "alice" || l.Token == nil {
			t.Fatalf("token %d: %+v, %v", i, l, err)
		}
		must(t, "session", nil, second(session(c.Login, sess)))
	}
	if n, h := c.st.reads.Load(), c.h.verified.Load(); n != 0 || h != 0 {
		t.Fatalf("300 cached logins made %d store reads and %d hashes, want none", n, h)
	}
	c.clk.Add(login.CachedFor)
	must(t, "basic", nil, second(basic(c.Login, "alice", "alice-password", "192.0.2.1")))
	must(t, "token", nil, second(bearer(c.Login, tok)))
	if n, h := c.st.reads.Load(), c.h.verified.Load(); n == 0 || h != 0 {
		t.Fatalf("after CachedFor: %d store reads and %d hashes, want reads and no hash", n, h)
	}
}

// second returns the error of a two-value call, for must.
func second[T any](_ T, err error) error { return err }

// A wrong password never enters the cache: each one is hashed and counted by
// the login throttle, and once the address is blocked the right password is
// refused from it too, cached or not; from elsewhere it logs in.
func TestWrongPasswordsAreNotCached(t *testing.T) {
	c := newCacheEnv(t, core.Config{})
	c.user(t, "bob")
	must(t, "basic", nil, second(basic(c.Login, "bob", "bob-password", "192.0.2.1")))
	c.h.verified.Store(0)
	for i := range 5 {
		_, err := basic(c.Login, "bob", "wrong-password", "192.0.2.9")
		wantReason(t, fmt.Sprintf("wrong password %d", i), err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	}
	if n := c.h.verified.Load(); n != 5 {
		t.Fatalf("5 wrong passwords: %d hashes, want 5", n)
	}
	if _, err := basic(c.Login, "bob", "bob-password", "192.0.2.9"); core.ErrorKind(err) != core.KindTooMany {
		t.Fatalf("the right password from the blocked address: %v, want too_many", err)
	}
	must(t, "the right password from elsewhere", nil, second(basic(c.Login, "bob", "bob-password", "192.0.2.1")))
}

// Every change that ends a credential, or changes what it proves, ends it at
// once in the process that made it, cached or not: the clock moves a
// millisecond, well within CachedFor.
func TestChangesEndCachedCredentialsAtOnce(t *testing.T) {
	c := newCacheEnv(t, core.Config{})
	admin := c.AdminCtx()
	for i, change := range []struct {
		name string
		do   func(u *core.User, tok string) error
		// basic and token check the cached password and token after it.
		basic, token func(t *testing.T, u *core.User, l *login.Login, err error)
	}{
		{"password set by an administrator", func(u *core.User, _ string) error {
			return c.Login.SetPassword(admin, u.ID, "new-password-1")
		}, refused(core.ReasonInvalidCredentials), refused(login.ReasonTokenRevoked)},
		{"password changed by its user", func(u *core.User, _ string) error {
			_, err := c.Login.ChangePassword(context.Background(), login.PasswordLogin{UserID: u.ID, Password: u.Name + "-password"}, "new-password-1", testenv.Origin)
			return err
		}, refused(core.ReasonInvalidCredentials), refused(login.ReasonTokenRevoked)},
		{"password edited with the user", func(u *core.User, _ string) error {
			_, err := c.Identity.UpdateUser(admin, u.ID, identity.UserInput{Password: ptr("new-password-1")})
			return err
		}, refused(core.ReasonInvalidCredentials), refused(login.ReasonTokenRevoked)},
		{"user disabled", func(u *core.User, _ string) error {
			_, err := c.Identity.UpdateUser(admin, u.ID, identity.UserInput{Enabled: ptr(false)})
			return err
		}, refused(core.ReasonInvalidCredentials), refused(login.ReasonTokenInvalid)},
		{"user deleted", func(u *core.User, _ string) error {
			return c.Identity.DeleteUser(admin, u.ID)
		}, refused(core.ReasonInvalidCredentials), refused(login.ReasonTokenInvalid)},
		{"user renamed", func(u *core.User, _ string) error {
			_, err := c.Identity.UpdateUser(admin, u.ID, identity.UserInput{Name: ptr(u.Name + "-renamed")})
			return err
		}, refused(core.ReasonInvalidCredentials), func(t *testing.T, u *core.User, l *login.Login, err error) {
			if err != nil || l.Actor.Name != u.Name+"-renamed" || l.User.Name != u.Name+"-renamed" {
				t.Fatalf("the token after the rename: %+v, %v; want its user's new name", l, err)
			}
		}},
		{"token revoked", func(u *core.User, tok string) error {
			ctx := core.WithActor(context.Background(), login.ActorOf(u, testenv.Origin, ""))
			return c.Login.RevokeToken(ctx, tok)
		}, accepted, refused(login.ReasonTokenRevoked)},
		{"second factor added", func(u *core.User, _ string) error {
			_, err := c.Login.CreateCredential(admin, login.CredentialInput{UserID: u.ID, Type: core.CredentialTOTP, Blob: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})
			return err
		}, refused(login.ReasonOTPRequired), accepted},
	} {
		t.Run(change.name, func(t *testing.T) {
			u := c.user(t, fmt.Sprintf("user%d", i))
			pw, source := u.Name+"-password", fmt.Sprintf("192.0.2.%d", i+1)
			tok := c.Token(t, u.Name, pw)
			must(t, "basic", nil, second(basic(c.Login, u.Name, pw, source)))
			must(t, "token", nil, second(bearer(c.Login, tok)))
			c.st.reads.Store(0)
			must(t, "basic, cached", nil, second(basic(c.Login, u.Name, pw, source)))
			must(t, "token, cached", nil, second(bearer(c.Login, tok)))
			if n := c.st.reads.Load(); n != 0 {
				t.Fatalf("the credentials are not cached: %d reads", n)
			}
			c.clk.Add(time.Millisecond) // a password changed after the token's issue
			if err := change.do(u, tok); err != nil {
				t.Fatal(err)
			}
			l, err := basic(c.Login, u.Name, pw, source)
			change.basic(t, u, l, err)
			l, err = bearer(c.Login, tok)
			change.token(t, u, l, err)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// refused checks a credential is refused with reason.
func refused(reason string) func(t *testing.T, u *core.User, l *login.Login, err error) {
	return func(t *testing.T, u *core.User, l *login.Login, err error) {
		t.Helper()
		wantReason(t, "after the change", err, core.KindUnauthenticated, reason)
	}
}

// accepted checks a credential still logs its user in.
func accepted(t *testing.T, u *core.User, l *login.Login, err error) {
	t.Helper()
	if err != nil || l.User.ID != u.ID {
		t.Fatalf("after the change: %+v, %v; want it to still log in", l, err)
	}
}

// The storage service's customers: a new password and the customer's
// deletion end its cached password at once, and a project's deletion the
// cached tokens scoped to it.
func TestCustomerChangesEndCachedCredentialsAtOnce(t *testing.T) {
	c := newCacheEnv(t, core.Config{})
	sat := core.WithActor(context.Background(), core.Actor{Name: "satellite-admin", Role: core.RoleAdmin, Realm: core.RealmStorage})
	cust, err := c.Tenancy.CreateCustomer(sat, tenancy.CustomerInput{Email: ptr("carol@mail.test"), Password: ptr("carol-password")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Tenancy.CreateProject(sat, cust.ID, "carol-project")
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "carol@mail.test", Password: "carol-password",
		Opens: core.TokenAPI, Scope: login.ProjectScope{ID: p.ID}}, testenv.Origin)
	scoped := must(t, "scoped login", l, err).Secret
	must(t, "scoped token", nil, second(bearer(c.Login, scoped)))
	must(t, "basic", nil, second(basic(c.Login, "carol@mail.test", "carol-password", "192.0.2.1")))

	if err := c.Tenancy.DeleteProject(sat, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = bearer(c.Login, scoped)
	wantReason(t, "the token scoped to the deleted project", err, core.KindUnauthenticated, login.ReasonTokenInvalid)

	if _, err := c.Tenancy.UpdateCustomer(sat, "carol@mail.test", tenancy.CustomerInput{Password: ptr("carol-password-2")}); err != nil {
		t.Fatal(err)
	}
	_, err = basic(c.Login, "carol@mail.test", "carol-password", "192.0.2.1")
	wantReason(t, "the old password", err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	must(t, "the new password", nil, second(basic(c.Login, "carol@mail.test", "carol-password-2", "192.0.2.1")))
	if err := c.Tenancy.DeleteCustomer(sat, "carol@mail.test"); err != nil {
		t.Fatal(err)
	}
	_, err = basic(c.Login, "carol@mail.test", "carol-password-2", "192.0.2.1")
	wantReason(t, "the deleted customer", err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
}

// A role granted on a project shows at once in the cached tokens scoped to it.
func TestGrantedRoleShowsInCachedTokensAtOnce(t *testing.T) {
	c := newCacheEnv(t, core.Config{})
	u := c.user(t, "gina")
	p := &core.Project{Name: "gina-project"}
	if err := c.Store.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if err := c.Identity.GrantProjectRole(c.AdminCtx(), p.ID, u.ID, core.RoleMember); err != nil {
		t.Fatal(err)
	}
	l, err := c.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "gina", Password: "gina-password",
		Opens: core.TokenAPI, Scope: login.ProjectScope{ID: p.ID}}, testenv.Origin)
	scoped := must(t, "scoped login", l, err).Secret
	if l, err := bearer(c.Login, scoped); err != nil || len(l.Token.Roles) != 1 {
		t.Fatalf("scoped token: %+v, %v", l, err)
	}
	if err := c.Identity.GrantProjectRole(c.AdminCtx(), p.ID, u.ID, core.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if l, err := bearer(c.Login, scoped); err != nil || len(l.Token.Roles) != 2 {
		t.Fatalf("scoped token after a grant: %+v, %v; want both roles", l, err)
	}
}

// A cached token ends at its expiry, checked on every use: the store is not
// read to tell.
func TestCachedTokenExpires(t *testing.T) {
	c := newCacheEnv(t, core.Config{TokenTTL: login.CachedFor / 2})
	c.user(t, "dave")
	tok := c.Token(t, "dave", "dave-password")
	must(t, "token", nil, second(bearer(c.Login, tok)))
	c.clk.Add(login.CachedFor/2 - time.Millisecond)
	must(t, "token before its expiry", nil, second(bearer(c.Login, tok)))
	c.st.reads.Store(0)
	c.clk.Add(time.Millisecond)
	_, err := bearer(c.Login, tok)
	wantReason(t, "the token at its expiry", err, core.KindUnauthenticated, login.ReasonTokenExpired)
	if n := c.st.reads.Load(); n != 0 {
		t.Fatalf("the expiry of a cached token read the store %d times", n)
	}
}

// A panel session records its use in the store at most every TouchEvery,
// not on every request, and its idle timeout counts from its last use in this
// process, which the store holds to within TouchEvery.
func TestSessionUseRecordedEveryFewSeconds(t *testing.T) {
	c := newCacheEnv(t, core.Config{})
	c.user(t, "erin")
	l, err := c.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "erin", Password: "erin-password", Opens: core.TokenPanel}, testenv.Origin)
	sess := must(t, "panel login", l, err).Secret
	start := c.clk.Now()
	c.st.touches.Store(0)
	const step = 50 * time.Millisecond
	for at := time.Duration(0); at < 2*login.TouchEvery; at += step {
		must(t, "session", nil, second(session(c.Login, sess)))
		c.clk.Add(step)
	}
	if n := c.st.touches.Load(); n != 1 {
		t.Fatalf("%d requests over %v recorded %d uses, want 1 (one every %v)", 2*login.TouchEvery/step, 2*login.TouchEvery, n, login.TouchEvery)
	}
	last := c.clk.Now().Add(-step)
	stored, err := c.Store.GetTokenByHash(context.Background(), core.TokenHash(sess))
	if err != nil {
		t.Fatal(err)
	}
	if d := last.Sub(stored.LastUsedAt); d < 0 || d >= login.TouchEvery {
		t.Fatalf("the stored use is %v before the last (at %v from the first), want less than %v", d, stored.LastUsedAt.Sub(start), login.TouchEvery)
	}
	// Idle for just under its timeout counted from the last use, but past it
	// counted from the one stored: it still works here.
	c.clk.Set(last.Add(core.PanelSessionIdle - time.Millisecond))
	if since := c.clk.Now().Sub(stored.LastUsedAt); since < core.PanelSessionIdle {
		t.Fatalf("the stored use is only %v old, under the idle timeout", since)
	}
	must(t, "the session idle just under its timeout", nil, second(session(c.Login, sess)))
	c.clk.Add(core.PanelSessionIdle)
	_, err = session(c.Login, sess)
	wantReason(t, "the session idle past its timeout", err, core.KindUnauthenticated, login.ReasonTokenExpired)
}

// Two replicas over one store: a change another replica commits ends what
// this one cached within CachedFor, counted from the read it cached.
func TestCachedCredentialsAcrossReplicas(t *testing.T) {
	for _, st := range testenv.Stores {
		t.Run(st.Name, func(t *testing.T) {
			store := st.Open(t)
			clk := testenv.NewClock(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
			here := testenv.NewWith(t, testenv.Options{Store: store, Clock: clk.Now})
			there := testenv.NewWith(t, testenv.Options{Store: store, Clock: clk.Now})
			admin := there.AdminCtx()
			for i, change := range []struct {
				name         string
				do           func(u *core.User, tok string) error
				basic, token string // the reasons they are refused with after it ("": not refused)
			}{
				{"password set", func(u *core.User, _ string) error {
					return there.Login.SetPassword(admin, u.ID, "new-password-1")
				}, core.ReasonInvalidCredentials, login.ReasonTokenRevoked},
				{"user disabled", func(u *core.User, _ string) error {
					_, err := there.Identity.UpdateUser(admin, u.ID, identity.UserInput{Enabled: ptr(false)})
					return err
				}, core.ReasonInvalidCredentials, login.ReasonTokenInvalid},
				{"user deleted", func(u *core.User, _ string) error {
					return there.Identity.DeleteUser(admin, u.ID)
				}, core.ReasonInvalidCredentials, login.ReasonTokenInvalid},
				{"token revoked", func(u *core.User, tok string) error {
					return there.Login.RevokeToken(core.WithActor(context.Background(), login.ActorOf(u, testenv.Origin, "")), tok)
				}, "", login.ReasonTokenRevoked},
			} {
				t.Run(change.name, func(t *testing.T) {
					name := fmt.Sprintf("user%d", i)
					pw, source := name+"-password", fmt.Sprintf("192.0.2.%d", i+1)
					u, err := here.Identity.CreateUser(here.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
					if err != nil {
						t.Fatal(err)
					}
					tok := here.Token(t, name, pw)
					clk.Add(time.Millisecond) // a password changed after the token's issue
					read := clk.Now()
					must(t, "basic", nil, second(basic(here.Login, name, pw, source)))
					must(t, "token", nil, second(bearer(here.Login, tok)))
					if err := change.do(u, tok); err != nil {
						t.Fatal(err)
					}
					_, errB := basic(here.Login, name, pw, source)
					_, errT := bearer(here.Login, tok)
					t.Logf("at once on this replica (cached): basic %v; token %v", errB, errT)
					clk.Set(read.Add(login.CachedFor))
					for what, got := range map[string]struct {
						err  error
						want string
					}{"basic": {second(basic(here.Login, name, pw, source)), change.basic}, "token": {second(bearer(here.Login, tok)), change.token}} {
						if got.want == "" {
							if got.err != nil {
								t.Errorf("%s after CachedFor: %v, want it to still log in", what, got.err)
							}
							continue
						}
						if core.ErrorKind(got.err) != core.KindUnauthenticated || core.ErrorReason(got.err) != got.want {
							t.Errorf("%s after CachedFor: %v, want reason %s", what, got.err, got.want)
						}
					}
				})
			}
		})
	}
}

// gatedHasher is argon2id at test cost whose Verify first waits for gate (a
// hasher whose limit is taken), or for its caller's context to end.
type gatedHasher struct {
	secret.Hasher
	gate    chan struct{}
	waiting chan struct{}
}

func (h *gatedHasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	h.waiting <- struct{}{}
	select {
	case <-h.gate:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return h.Hasher.Verify(ctx, password, hash)
}

// A login waiting for its turn to hash waits no longer than its context: it
// fails as a cancellation, counted as no failure, and a login that shared its
// check makes the check anew rather than fail with it.
func TestLoginWaitsForItsHashWithinItsContext(t *testing.T) {
	h := &gatedHasher{Hasher: secret.Hasher{Params: secret.TestParams}, gate: make(chan struct{}), waiting: make(chan struct{}, 4)}
	e := testenv.NewWith(t, testenv.Options{Hasher: h})
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := e.Login.LoginPassword(ctx, login.PasswordLogin{UserName: testenv.AdminUser, Password: testenv.AdminPassword}, testenv.Origin)
		first <- err
	}()
	<-h.waiting
	second := make(chan error, 1)
	go func() {
		_, err := e.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: testenv.AdminUser, Password: testenv.AdminPassword}, testenv.Origin)
		second <- err
	}()
	time.Sleep(20 * time.Millisecond) // the second joins the first's check
	cancel()
	if err := <-first; core.ErrorKind(err) != core.KindCanceled {
		t.Fatalf("the login whose caller went away: %v, want canceled", err)
	}
	<-h.waiting // the second makes the check itself
	close(h.gate)
	if err := <-second; err != nil {
		t.Fatalf("the login that shared the abandoned check: %v", err)
	}
}

// The cache answers only the logins it holds, passwords sent with a request:
// a strict login just after a cached one is still held to the password's age,
// while the request's password, as before, is not.
func TestCacheKeepsThePasswordPolicy(t *testing.T) {
	c := newCacheEnv(t, core.Config{PasswordMaxAge: login.CachedFor / 2})
	u := c.user(t, "frank")
	c.clk.Set(u.PasswordChangedAt.Add(login.CachedFor/2 - time.Millisecond))
	must(t, "basic", nil, second(basic(c.Login, "frank", "frank-password", "192.0.2.1")))
	c.clk.Add(time.Millisecond) // the password has expired; the cached login is fresh
	_, err := c.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: "frank", Password: "frank-password", Strict: true}, testenv.Origin)
	wantReason(t, "a strict login with the expired password", err, core.KindUnauthenticated, login.ReasonPasswordExpired)
	must(t, "basic with the expired password", nil, second(basic(c.Login, "frank", "frank-password", "192.0.2.1")))
}
