package core_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/internal/testenv"
	"hostdeck/store/sqlite"
	"hostdeck/store/storetest"
)

// policyEnv is an env with a settable clock and cfg's password policy.
func policyEnv(t *testing.T, cfg core.Config) (*testenv.Env, *testenv.Clock) {
	t.Helper()
	c := testenv.NewClock(time.Now().UTC())
	return testenv.NewWith(t, testenv.Options{Config: cfg, Clock: c.Now}), c
}

func logIn(e *testenv.Env, name, password, passcode string) (*core.User, error) {
	t, _, err := issueToken(e.Login, context.Background(), login.PasswordLogin{UserName: name, Password: password, Passcode: passcode})
	if err != nil {
		return nil, err
	}
	return e.Store.GetUser(context.Background(), t.UserID)
}

func wantNotice(t *testing.T, svc *login.Service, u *core.User, reason, param, value string) {
	t.Helper()
	n := svc.PasswordNotice(u)
	if reason == "" {
		if n != nil {
			t.Fatalf("notice = %v, want none", n)
		}
		return
	}
	if core.ErrorReason(n) != reason || core.ErrorParams(n)[param] != value {
		t.Fatalf("notice = %v (reason %q, params %v), want %s with %s=%s", n, core.ErrorReason(n), core.ErrorParams(n), reason, param, value)
	}
}

func TestPasswordExpiryAndGraceLogins(t *testing.T) {
	e, c := policyEnv(t, core.Config{PasswordMaxAge: 24 * time.Hour, PasswordWarn: 2 * time.Hour, GraceLogins: 2})
	u := newMember(t, e, "pat")
	pw := "pat-password"

	got, err := logIn(e, "pat", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	wantNotice(t, e.Login, got, "", "", "")
	if at := e.Login.PasswordExpiresAt(got); at == nil || !at.Equal(got.PasswordChangedAt.Add(24*time.Hour)) {
		t.Fatalf("PasswordExpiresAt = %v, want changed+24h (%v)", at, got.PasswordChangedAt)
	}

	// Within the warning window: the login succeeds and is warned.
	c.Add(23 * time.Hour)
	got, err = logIn(e, "pat", pw, "")
	if err != nil {
		t.Fatal(err)
	}
	wantNotice(t, e.Login, got, login.ReasonPasswordExpiring, "seconds", "3600")

	// Expired: each login uses a grace login and says how many are left.
	c.Add(2 * time.Hour)
	for _, left := range []string{"1", "0"} {
		got, err = logIn(e, "pat", pw, "")
		if err != nil {
			t.Fatalf("grace login: %v", err)
		}
		wantNotice(t, e.Login, got, login.ReasonGraceLogins, "attempts", left)
	}
	// A wrong password uses none and is still a wrong password.
	_, err = logIn(e, "pat", "wrong-password", "")
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	_, err = logIn(e, "pat", pw, "")
	wantReason(t, err, core.KindUnauthenticated, login.ReasonPasswordExpired)
	// The broker too.
	_, _, err = issueToken(e.Login, context.Background(), brokerLogin("pat", pw))
	wantReason(t, err, core.KindUnauthenticated, login.ReasonPasswordExpired)

	// The expired password may still log in to be changed; the change resets the age and the grace logins.
	if _, err := e.Login.ChangePassword(context.Background(), brokerLogin("pat", pw), "pat-new-password", origin); err != nil {
		t.Fatalf("change an expired password: %v", err)
	}
	got, err = logIn(e, "pat", "pat-new-password", "")
	if err != nil {
		t.Fatal(err)
	}
	wantNotice(t, e.Login, got, "", "", "")
	if got.GraceLoginsUsed != 0 || !got.PasswordChangedAt.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Fatalf("after change: grace %d, changed %v (now %v)", got.GraceLoginsUsed, got.PasswordChangedAt, c.Now())
	}

	// An admin's edit of the password (Keystone PATCH) resets them as well.
	c.Add(25 * time.Hour)
	if _, err := logIn(e, "pat", "pat-new-password", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Identity.UpdateUser(e.AdminCtx(), u.ID, identity.UserInput{Password: ptr("pat-third-password")}); err != nil {
		t.Fatal(err)
	}
	got, err = logIn(e, "pat", "pat-third-password", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.GraceLoginsUsed != 0 {
		t.Fatalf("grace after admin edit = %d", got.GraceLoginsUsed)
	}
	wantNotice(t, e.Login, got, "", "", "")
}

func TestPasswordExpiredWithoutGrace(t *testing.T) {
	e, c := policyEnv(t, core.Config{PasswordMaxAge: time.Hour})
	newMember(t, e, "quinn")
	c.Add(time.Hour)
	_, err := logIn(e, "quinn", "quinn-password", "")
	wantReason(t, err, core.KindUnauthenticated, login.ReasonPasswordExpired)

	// No policy: passwords never expire.
	e2, c2 := policyEnv(t, core.Config{})
	newMember(t, e2, "rita")
	c2.Add(10 * 365 * 24 * time.Hour)
	got, err := logIn(e2, "rita", "rita-password", "")
	if err != nil {
		t.Fatal(err)
	}
	if e2.Login.PasswordExpiresAt(got) != nil || e2.Login.PasswordNotice(got) != nil {
		t.Fatal("a password expires without a policy")
	}
}

func memberCtx(u *core.User) context.Context {
	return core.WithActor(context.Background(), core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: "test"})
}

func TestTOTPLogin(t *testing.T) {
	e, c := policyEnv(t, core.Config{})
	sam := newMember(t, e, "sam")
	other := newMember(t, e, "tess")
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

	// Only the user itself or an admin gives a user a secret; the secret is checked.
	_, err := e.Login.CreateCredential(memberCtx(other), login.CredentialInput{UserID: sam.ID, Type: "totp", Blob: sec})
	if core.ErrorKind(err) != core.KindForbidden {
		t.Fatalf("another member's credential: %v", err)
	}
	for _, bad := range []login.CredentialInput{
		{UserID: sam.ID, Type: "ec2", Blob: sec},
		{UserID: sam.ID, Type: "totp", Blob: "not base32!"},
		{UserID: sam.ID, Type: "totp", Blob: "JBSWY3DP"}, // 40 bits
	} {
		if _, err := e.Login.CreateCredential(memberCtx(sam), bad); core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("CreateCredential(%+v) = %v, want invalid", bad, err)
		}
	}
	cred, err := e.Login.CreateCredential(memberCtx(sam), login.CredentialInput{UserID: sam.ID, Type: "totp", Blob: strings.ToLower(sec)})
	if err != nil {
		t.Fatal(err)
	}
	// Stored sealed, never in clear.
	stored, err := e.Store.GetCredential(context.Background(), cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.Blob), sec) || len(stored.Blob) <= len(sec) {
		t.Fatalf("the secret is stored in clear: %q", stored.Blob)
	}
	// Members list their own; admins anyone's.
	list, err := e.Login.ListCredentials(memberCtx(other), "", "")
	if err != nil || len(list) != 0 {
		t.Fatalf("tess's credentials = %v, %v", list, err)
	}
	if _, err := e.Login.ListCredentials(memberCtx(other), sam.ID, ""); core.ErrorKind(err) != core.KindForbidden {
		t.Fatalf("tess lists sam's: %v", err)
	}
	if _, err := e.Login.GetCredential(memberCtx(other), cred.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("tess gets sam's: %v", err)
	}
	list, err = e.Login.ListCredentials(e.AdminCtx(), sam.ID, "totp")
	if err != nil || len(list) != 1 || list[0].ID != cred.ID {
		t.Fatalf("admin lists sam's = %v, %v", list, err)
	}

	// No passcode: 27's reason; a wrong one: wrong credentials.
	_, err = logIn(e, "sam", "sam-password", "")
	wantReason(t, err, core.KindUnauthenticated, login.ReasonOTPRequired)
	// Nor is the second factor skipped where no passcode can be given (HTTP
	// Basic, the panel): those logins are refused.
	_, err = authenticate(e.Login, context.Background(), "sam", "sam-password", "192.0.2.7")
	wantReason(t, err, core.KindUnauthenticated, login.ReasonOTPRequired)
	_, err = logIn(e, "sam", "sam-password", "000000x")
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	// A wrong password with no passcode is a wrong password, not "OTP required".
	_, err = logIn(e, "sam", "bad-password", "")
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)

	code, err := totp.GenerateCode(sec, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = logIn(e, "sam", "sam-password", wrong)
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	if _, err := logIn(e, "sam", "sam-password", code); err != nil {
		t.Fatalf("login with the passcode: %v", err)
	}
	// The same passcode again is a replay.
	_, err = logIn(e, "sam", "sam-password", code)
	wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	// The next time step's code is good once.
	c.Add(30 * time.Second)
	next, _ := totp.GenerateCode(sec, c.Now())
	if _, err := logIn(e, "sam", "sam-password", next); err != nil {
		t.Fatalf("next passcode: %v", err)
	}
	// A code two minutes old is refused.
	old, _ := totp.GenerateCode(sec, c.Now().Add(-2*time.Minute))
	if old != next {
		_, err = logIn(e, "sam", "sam-password", old)
		wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	}
	// The broker takes the passcode from the context.
	c.Add(30 * time.Second)
	bcode, _ := totp.GenerateCode(sec, c.Now())
	_, _, err = issueToken(e.Login, context.Background(), brokerLogin("sam", "sam-password"))
	wantReason(t, err, core.KindUnauthenticated, login.ReasonOTPRequired)
	if _, _, err := issueToken(e.Login, context.Background(), withPasscode(brokerLogin("sam", "sam-password"), bcode)); err != nil {
		t.Fatalf("broker login with passcode: %v", err)
	}

	// Deleting the credential ends the second factor.
	if err := e.Login.DeleteCredential(memberCtx(sam), cred.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := logIn(e, "sam", "sam-password", ""); err != nil {
		t.Fatalf("login after the credential is gone: %v", err)
	}
	if err := e.Login.DeleteCredential(memberCtx(sam), cred.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestWebGuardRules(t *testing.T) {
	if err := desktop.CheckAllowedNetworks([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"10.0.0.0/33"}, {"example.com"}, {""}, make([]string, 300)} {
		if err := desktop.CheckAllowedNetworks(bad); core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("CheckAllowedNetworks(%q) = %v, want invalid", bad, err)
		}
	}
	p := &desktop.Pool{Name: "lab", AllowedNetworks: []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}}
	for _, tc := range []struct {
		source string
		ok     bool
	}{
		{"10.1.2.3", true}, {"192.0.2.7", true}, {"::ffff:10.9.9.9", true}, {"2001:db8::1", true},
		{"192.0.2.8", false}, {"127.0.0.1", false}, {"", false}, {"not-an-ip", false},
	} {
		err := desktop.CheckWebGuard(p, tc.source)
		if tc.ok != (err == nil) {
			t.Fatalf("CheckWebGuard(%q) = %v, want ok=%v", tc.source, err, tc.ok)
		}
		if err != nil && (core.ErrorReason(err) != login.ReasonWebGuard || core.ErrorKind(err) != core.KindForbidden) {
			t.Fatalf("CheckWebGuard(%q) = %v, want reason web_guard", tc.source, err)
		}
	}
	if err := desktop.CheckWebGuard(&desktop.Pool{}, "203.0.113.1"); err != nil {
		t.Fatalf("an empty list refuses: %v", err)
	}
}

func TestWebGuardProjectSetting(t *testing.T) {
	e := testenv.New(t)
	name, fl, im := "guarded", "0a7e5c1d-7f3b-4c2a-9d10-000000000001", "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
	_, err := e.Desktop.CreatePool(e.AdminCtx(), desktop.PoolInput{Name: &name, FlavorID: &fl, ImageID: &im,
		AllowedNetworks: &[]string{"10.0.0.0/33"}})
	if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != "allowed_networks" {
		t.Fatalf("bad network: %v", err)
	}
	p, err := e.Desktop.CreatePool(e.AdminCtx(), desktop.PoolInput{Name: &name, FlavorID: &fl, ImageID: &im,
		AllowedNetworks: &[]string{" 10.1.2.3/8 ", "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Desktop.GetPool(e.AdminCtx(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.AllowedNetworks, ",") != "10.0.0.0/8,192.0.2.7/32" {
		t.Fatalf("AllowedNetworks = %v, want canonical CIDRs", got.AllowedNetworks)
	}
}

// downStore is a store whose identity reads fail as a database that is down does.
type downStore struct{ storetest.Store }

var errDown = core.Wrap(core.KindInternal, errors.New("sql: database is closed"), "get user")

func (downStore) GetUserByName(context.Context, string) (*core.User, error) { return nil, errDown }
func (downStore) GetTokenByHash(context.Context, string) (*core.Token, error) {
	return nil, context.DeadlineExceeded
}

func TestAuthUnavailable(t *testing.T) {
	e := testenv.New(t)
	newMember(t, e, "uma")
	down := downStore{e.Store}
	svc := services.New(core.New(core.Deps{Store: down, Hasher: secret.Hasher{Params: secret.TestParams}}, core.Config{}), down, services.Options{}).Login
	_, _, err := issueToken(svc, context.Background(), login.PasswordLogin{UserName: "uma", Password: "uma-password"})
	wantReason(t, err, core.KindUnavailable, login.ReasonAuthUnavailable)
	_, _, err = validateToken(svc, context.Background(), "some-token")
	wantReason(t, err, core.KindUnavailable, login.ReasonAuthUnavailable)
	_, _, err = issueToken(svc, context.Background(), brokerLogin("uma", "uma-password"))
	wantReason(t, err, core.KindUnavailable, login.ReasonAuthUnavailable)

	// A real store closed under a service.
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	all := services.New(core.New(core.Deps{Store: st, Hasher: secret.Hasher{Params: secret.TestParams}}, core.Config{}), st, services.Options{})
	svc = all.Login
	if _, err := all.Identity.EnsureAdmin(context.Background(), "admin", "admin-password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := issueToken(svc, context.Background(), login.PasswordLogin{UserName: "admin", Password: "admin-password"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, _, err = issueToken(svc, context.Background(), login.PasswordLogin{UserName: "admin", Password: "admin-password"})
	wantReason(t, err, core.KindUnavailable, login.ReasonAuthUnavailable)
	_, err = authenticate(svc, context.Background(), "admin", "admin-password", "192.0.2.1")
	wantReason(t, err, core.KindUnavailable, login.ReasonAuthUnavailable)
}

// A login whose caller went away (the request context is cancelled) fails as a
// cancellation, not as "the authentication server is not available": the store
// is fine.
func TestAuthCanceled(t *testing.T) {
	e := testenv.New(t)
	newMember(t, e, "uma")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := issueToken(e.Login, ctx, login.PasswordLogin{UserName: "uma", Password: "uma-password"})
	wantReason(t, err, core.KindCanceled, "")
	_, _, err = validateToken(e.Login, ctx, "some-token")
	wantReason(t, err, core.KindCanceled, "")
	_, err = authenticate(e.Login, ctx, "uma", "uma-password", "192.0.2.1")
	wantReason(t, err, core.KindCanceled, "")
	_, _, err = issueToken(e.Login, ctx, brokerLogin("uma", "uma-password"))
	wantReason(t, err, core.KindCanceled, "")
	if msg := core.ErrorMessage(err); msg != "the operation was canceled" {
		t.Errorf("message %q", msg)
	}
}

// A failure caused by a cancelled context is KindCanceled, whatever kind the
// adapter gave it; other kinds and deadlines keep theirs. An internal error
// caused by a lost connection is KindUnavailable.
func TestErrorKindCanceled(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want core.Kind
	}{
		{context.Canceled, core.KindCanceled},
		{core.Wrap(core.KindInternal, context.Canceled, "get user"), core.KindCanceled},
		{core.Wrap(core.KindUnavailable, fmt.Errorf("exec: %w", context.Canceled), "runtime"), core.KindCanceled},
		{core.Wrap(core.KindInvalid, context.Canceled, "bad"), core.KindInvalid},
		{core.Wrap(core.KindInternal, context.DeadlineExceeded, "get user"), core.KindInternal},
		{errors.New("disk full"), core.KindInternal},
		// A lost connection is a dependency down, not a bug.
		{core.Wrap(core.KindInternal, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, "get user"), core.KindUnavailable},
		{core.Wrap(core.KindInternal, fmt.Errorf("query: %w", driver.ErrBadConn), "list"), core.KindUnavailable},
		{core.Wrap(core.KindInternal, io.ErrUnexpectedEOF, "commit"), core.KindUnavailable},
		{core.Wrap(core.KindConflict, io.ErrUnexpectedEOF, "taken"), core.KindConflict},
		{core.Wrap(core.KindInternal, retryable{true}, "begin transaction"), core.KindUnavailable},
		{core.Wrap(core.KindInternal, retryable{false}, "begin transaction"), core.KindInternal},
		{core.Wrap(core.KindInternal, fmt.Errorf("connect: %w", sqlState("57P03")), "begin transaction"), core.KindUnavailable}, // starting up
		{core.Wrap(core.KindInternal, sqlState("08006"), "commit"), core.KindUnavailable},
		{core.Wrap(core.KindInternal, sqlState("23505"), "insert"), core.KindInternal},
	} {
		if got := core.ErrorKind(tt.err); got != tt.want {
			t.Errorf("ErrorKind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// retryable is a driver error that says whether it is safe to retry, as pgx's
// "conn closed" does.
type retryable struct{ safe bool }

func (r retryable) Error() string     { return "conn closed" }
func (r retryable) SafeToRetry() bool { return r.safe }

// sqlState is a database error with its SQLSTATE, as pgx's are.
type sqlState string

func (s sqlState) Error() string    { return "server error (SQLSTATE " + string(s) + ")" }
func (s sqlState) SQLState() string { return string(s) }

// script writes an executable shell script into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPasswordChangeScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	good := script(t, dir, "good.sh", `printf '%s\n' "$#" "$1" > `+out+`.args
read -r pw
printf '%s' "$pw" > `+out+`.stdin
env > `+out+`.env
`)
	failing := script(t, dir, "fail.sh", "cat > /dev/null\nexit 1\n")
	slow := script(t, dir, "slow.sh", "sleep 5\n")
	plain := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	change := func(t *testing.T, path, user, old, new string) error {
		t.Helper()
		e := testenv.NewWith(t, testenv.Options{Config: core.Config{PasswordChangeScript: path, PasswordChangeScriptTimeout: 300 * time.Millisecond}})
		newMember(t, e, user)
		_, err := e.Login.ChangePassword(context.Background(), brokerLogin(user, old), new, origin)
		// Whatever the outcome, exactly one of the passwords works.
		_, oldErr := logIn(e, user, old, "")
		_, newErr := logIn(e, user, new, "")
		if (err == nil) != (newErr == nil) || (err == nil) == (oldErr == nil) {
			t.Fatalf("change err %v: old login %v, new login %v", err, oldErr, newErr)
		}
		return err
	}

	t.Run("ok", func(t *testing.T) {
		if err := change(t, good, "vera", "vera-password", "Qdr4H2d5bn01"); err != nil {
			t.Fatal(err)
		}
		args, _ := os.ReadFile(out + ".args")
		stdin, _ := os.ReadFile(out + ".stdin")
		env, _ := os.ReadFile(out + ".env")
		if string(args) != "1\nvera\n" || string(stdin) != "Qdr4H2d5bn01" {
			t.Fatalf("script got args %q, stdin %q", args, stdin)
		}
		if strings.Contains(string(env), "Qdr4H2d5bn01") {
			t.Fatal("the new password is in the script's environment")
		}
	})
	for _, tc := range []struct{ name, path, reason string }{
		{"missing", filepath.Join(dir, "nope.sh"), login.ReasonScriptMissing},
		{"not executable", plain, login.ReasonScriptMissing},
		{"directory", dir, login.ReasonScriptMissing},
		{"exit 1", failing, login.ReasonScriptFailed},
		{"timeout", slow, login.ReasonScriptFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := change(t, tc.path, "walt", "walt-password", "walt-new-password")
			if core.ErrorReason(err) != tc.reason {
				t.Fatalf("err = %v (reason %q), want %q", err, core.ErrorReason(err), tc.reason)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Fatalf("took %v: the timeout did not stop the script", d)
			}
		})
	}
	// The Keystone self-service change runs the script too.
	t.Run("own change", func(t *testing.T) {
		e := testenv.NewWith(t, testenv.Options{Config: core.Config{PasswordChangeScript: failing}})
		u := newMember(t, e, "yann")
		err := changeOwnPassword(e.Login, context.Background(), u.ID, "yann-password", "yann-new-password")
		wantReason(t, err, core.KindUnavailable, login.ReasonScriptFailed)
		err = changeOwnPassword(e.Login, context.Background(), u.ID, "wrong-password", "yann-new-password")
		wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
		err = changeOwnPassword(e.Login, context.Background(), "not-an-id", "yann-password", "yann-new-password")
		wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
		if _, err := logIn(e, "yann", "yann-password", ""); err != nil {
			t.Fatalf("the password changed: %v", err)
		}
	})
	// A new password hostdeck refuses never reaches the script.
	t.Run("short", func(t *testing.T) {
		os.Remove(out + ".args")
		e := testenv.NewWith(t, testenv.Options{Config: core.Config{PasswordChangeScript: good}})
		newMember(t, e, "xena")
		_, err := e.Login.ChangePassword(context.Background(), brokerLogin("xena", "xena-password"), "short", origin)
		if core.ErrorKind(err) != core.KindInvalid {
			t.Fatalf("short password: %v", err)
		}
		if _, err := os.Stat(out + ".args"); err == nil {
			t.Fatal("the script ran for a refused password")
		}
	})
}

func TestTOTPThrottle(t *testing.T) {
	e, c := policyEnv(t, core.Config{})
	u := newMember(t, e, "yuri")
	const sec = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
	if _, err := e.Login.CreateCredential(e.AdminCtx(), login.CredentialInput{UserID: u.ID, Type: "totp", Blob: sec}); err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(sec, c.Now())
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	// The password is right each time, so only the passcode throttle counts.
	for i := 0; i < 5; i++ {
		_, err := logIn(e, "yuri", "yuri-password", wrong)
		wantReason(t, err, core.KindUnauthenticated, core.ReasonInvalidCredentials)
	}
	if _, err := logIn(e, "yuri", "yuri-password", code); core.ErrorKind(err) != core.KindTooMany {
		t.Fatalf("after 5 wrong passcodes: %v, want too many", err)
	}
	c.Add(2 * time.Second)
	code, _ = totp.GenerateCode(sec, c.Now())
	if _, err := logIn(e, "yuri", "yuri-password", code); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
}

// withPasscode is in with a TOTP passcode.
func withPasscode(in login.PasswordLogin, passcode string) login.PasswordLogin {
	in.Passcode = passcode
	return in
}
