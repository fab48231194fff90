package login_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/login"
	"hostdeck/internal/testenv"
	"hostdeck/notify/smtptest"
)

const resetURL = "https://deck.example.test/reset?token="

func resetLink(secret string) string { return resetURL + secret }

var linkInMail = regexp.MustCompile(regexp.QuoteMeta(resetURL) + `([0-9a-f]+)`)

// resetMail waits for the n-th message and returns it with the secret of
// the link it holds.
func resetMail(t *testing.T, e *testenv.Env, n int) (smtptest.Message, string) {
	t.Helper()
	msgs := e.Mail.WaitFor(t, n, 10*time.Second)
	m := msgs[n-1]
	got := linkInMail.FindStringSubmatch(m.Body)
	if got == nil {
		t.Fatalf("no reset link in the e-mail:\n%s", m.Body)
	}
	return m, got[1]
}

// noResetTask fails when a reset e-mail was asked for.
func noResetTask(t *testing.T, e *testenv.Env) {
	t.Helper()
	_, n, err := e.Store.ListTasks(context.Background(), core.TaskFilter{Kind: core.Ptr(login.KindPasswordResetMail)})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d reset e-mails asked for, want none", n)
	}
}

func TestForgottenPassword(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	e := testenv.NewWith(t, testenv.Options{Clock: clock.Now})
	u, _ := member(t, e, "frank", "frank-password-1")
	ctx := context.Background()
	origin := login.Origin{Face: "test", Source: "192.0.2.1"}

	// Unknown and disabled addresses answer the same, and send nothing.
	if err := e.Login.ForgetPassword(ctx, "nobody@example.test", resetLink, origin); err != nil {
		t.Fatal(err)
	}
	name := "grace"
	g, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: &name, Password: core.Ptr("grace-password-1"),
		Email: core.Ptr("grace@example.test"), Enabled: core.Ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Login.ForgetPassword(ctx, g.Email, resetLink, origin); err != nil {
		t.Fatal(err)
	}
	noResetTask(t, e)

	// A session opened before the reset ends with it.
	session := e.Token(t, "frank", "frank-password-1")
	clock.Add(time.Second)

	if err := e.Login.ForgetPassword(ctx, "  FRANK@example.test ", resetLink, origin); err != nil {
		t.Fatal(err)
	}
	m, sec := resetMail(t, e, 1)
	if len(m.To) != 1 || m.To[0] != u.Email || !strings.Contains(m.Subject, "password") {
		t.Fatalf("e-mail to %v, subject %q", m.To, m.Subject)
	}
	if !strings.Contains(m.Body, clock.Now().Add(core.ResetTokenTTL).UTC().Format("2006-01-02 15:04")) {
		t.Fatalf("the e-mail does not tell the expiry:\n%s", m.Body)
	}
	// The task holds no secret in clear.
	tasks, _, err := e.Store.ListTasks(ctx, core.TaskFilter{Kind: core.Ptr(login.KindPasswordResetMail)})
	if err != nil || len(tasks) != 1 {
		t.Fatalf("reset tasks: %v, %v", tasks, err)
	}
	if strings.Contains(string(tasks[0].Payload), sec) || strings.Contains(string(tasks[0].Result), sec) {
		t.Fatal("the reset secret is in the task in clear")
	}
	// A reset secret logs nobody in.
	_, err = e.Login.LoginToken(ctx, core.TokenReset, sec, origin)
	wantKind(t, err, core.KindUnauthenticated)

	// A password the policy refuses leaves the link unused.
	wantKind(t, e.Login.ResetPassword(ctx, sec, "short", origin), core.KindInvalid)
	if err := e.Login.ResetPassword(ctx, sec, "frank-password-2", origin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Login.LoginPassword(ctx, login.PasswordLogin{UserName: "frank", Password: "frank-password-2"}, origin); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	_, err = e.Login.LoginPassword(ctx, login.PasswordLogin{UserName: "frank", Password: "frank-password-1"}, origin)
	wantKind(t, err, core.KindUnauthenticated)
	_, err = e.Login.LoginToken(ctx, core.TokenAPI, session, origin)
	wantKind(t, err, core.KindUnauthenticated)

	// Once only; and a wrong secret answers the same.
	used := e.Login.ResetPassword(ctx, sec, "frank-password-3", origin)
	wantKind(t, used, core.KindUnauthenticated)
	wrong := e.Login.ResetPassword(ctx, strings.Repeat("0", 40), "frank-password-3", origin)
	wantKind(t, wrong, core.KindUnauthenticated)
	if used.Error() != wrong.Error() || core.ErrorReason(used) != login.ReasonTokenInvalid {
		t.Fatalf("used %q, wrong %q: want one message, reason token_invalid", used, wrong)
	}
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{TargetType: core.Ptr("user"), TargetID: &u.ID})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, ev := range evs {
		actions[ev.Action]++
		if strings.Contains(string(ev.Detail), sec) {
			t.Fatalf("the secret in the audit: %s", ev.Detail)
		}
	}
	if actions["user.password_forgot"] != 1 || actions["user.password_reset"] != 1 {
		t.Fatalf("audit: %v", actions)
	}

	// A link past its hour is refused.
	clock.Add(time.Second)
	if err := e.Login.ForgetPassword(ctx, u.Email, resetLink, origin); err != nil {
		t.Fatal(err)
	}
	_, sec = resetMail(t, e, 2)
	clock.Add(core.ResetTokenTTL)
	wantKind(t, e.Login.ResetPassword(ctx, sec, "frank-password-4", origin), core.KindUnauthenticated)

	// Requests are limited per address, known or not, and per source.
	other := login.Origin{Face: "test", Source: "192.0.2.2"}
	var limited error
	for range 10 {
		if limited = e.Login.ForgetPassword(ctx, "nobody@example.test", resetLink, other); limited != nil {
			break
		}
	}
	wantKind(t, limited, core.KindTooMany)
	third := login.Origin{Face: "test", Source: "192.0.2.3"}
	for i := range 10 {
		if limited = e.Login.ForgetPassword(ctx, "someone"+string(rune('a'+i))+"@example.test", resetLink, third); limited != nil {
			break
		}
	}
	wantKind(t, limited, core.KindTooMany)
}

// TestResetEndsOtherLinks: a password set with one link ends the user's
// other links.
func TestResetEndsOtherLinks(t *testing.T) {
	clock := testenv.NewClock(time.Now())
	e := testenv.NewWith(t, testenv.Options{Clock: clock.Now})
	u, _ := member(t, e, "heidi", "heidi-password-1")
	ctx := context.Background()
	for range 2 {
		if err := e.Login.ForgetPassword(ctx, u.Email, resetLink, testenv.Origin); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.Mail.WaitFor(t, 2, 10*time.Second)
	var secs []string
	for _, m := range msgs {
		secs = append(secs, linkInMail.FindStringSubmatch(m.Body)[1])
	}
	if secs[0] == secs[1] {
		t.Fatal("two links with one secret")
	}
	clock.Add(time.Second)
	if err := e.Login.ResetPassword(ctx, secs[1], "heidi-password-2", testenv.Origin); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.Login.ResetPassword(ctx, secs[0], "heidi-password-3", testenv.Origin), core.KindUnauthenticated)
}
