package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/notify"
	"hostdeck/notify/smtptest"
)

var now = time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)

func newMailer(t *testing.T, srv *smtptest.Server, cfg notify.Config) (*notify.Mailer, *bytes.Buffer) {
	t.Helper()
	if cfg.Host == "" {
		cfg.Host, cfg.Port = srv.Host, srv.Port
	}
	if cfg.From == "" {
		cfg.From = "Hostdeck <noreply@hostdeck.test>"
	}
	if cfg.TLS == "" {
		cfg.TLS = notify.TLSNone
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = func() time.Time { return now }
	}
	var logs bytes.Buffer
	m, err := notify.New(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return m, &logs
}

func client(lang string) *core.Client {
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return &core.Client{
		ID:         "c1",
		Name:       "Иван Петров",
		Email:      "ivan@example.ru",
		Lang:       lang,
		URL:        "https://ivan.cloud.example.ru",
		OwnerLogin: "admin",
		ExpireDate: &exp,
	}
}

// decodedTo is the To header with its encoded-words decoded.
func decodedTo(t *testing.T, m smtptest.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClientReady(t *testing.T) {
	const password = "Pa55-Слово-x9"
	for _, tc := range []struct {
		lang, subject string
		want          []string
	}{
		{"ru", "Ваше облако готово", []string{"Здравствуйте, Иван Петров!", "Адрес:  https://ivan.cloud.example.ru", "Логин:  admin", "Пароль: " + password}},
		{"", "Ваше облако готово", []string{"Здравствуйте, Иван Петров!"}},
		{"de", "Ваше облако готово", []string{"Здравствуйте, Иван Петров!"}},
		{"en", "Your cloud is ready", []string{"Hello, Иван Петров!", "Address:  https://ivan.cloud.example.ru", "Login:    admin", "Password: " + password}},
		{"en-US", "Your cloud is ready", []string{"Hello, Иван Петров!"}},
	} {
		t.Run("lang="+tc.lang, func(t *testing.T) {
			srv := smtptest.Start(t)
			m, logs := newMailer(t, srv, notify.Config{})
			if err := m.ClientReady(context.Background(), client(tc.lang), password); err != nil {
				t.Fatal(err)
			}
			msgs := srv.WaitFor(t, 1, 5*time.Second)
			got := msgs[0]
			if len(got.To) != 1 || got.To[0] != "ivan@example.ru" || got.From != "noreply@hostdeck.test" {
				t.Errorf("envelope from %q to %q", got.From, got.To)
			}
			if to := decodedTo(t, got); !strings.Contains(to, "Иван Петров") || !strings.Contains(to, "<ivan@example.ru>") {
				t.Errorf("To header %q", to)
			}
			if got.Subject != tc.subject {
				t.Errorf("subject %q, want %q", got.Subject, tc.subject)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Body, w) {
					t.Errorf("body lacks %q:\n%s", w, got.Body)
				}
			}
			if id := got.Header.Get("Message-Id"); !strings.HasSuffix(id, "@hostdeck.test>") {
				t.Errorf("Message-ID %q is not in the sender's domain", id)
			}
			if ct := got.Header.Get("Content-Type"); !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
				t.Errorf("Content-Type %q", ct)
			}
			if strings.Contains(logs.String(), password) {
				t.Errorf("log holds the password: %s", logs)
			}
			if !strings.Contains(logs.String(), `"mail sent"`) {
				t.Errorf("no log line for the sent mail: %s", logs)
			}
		})
	}
}

func TestClientExpiring(t *testing.T) {
	for _, tc := range []struct {
		lang, subject, want string
	}{
		{"ru", "Срок действия вашего облака истекает 01.12.2026", "истекает 01.12.2026, через 7 дней."},
		{"en", "Your cloud expires on 2026-12-01", "expires on 2026-12-01, in 7 days."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			srv := smtptest.Start(t)
			m, _ := newMailer(t, srv, notify.Config{})
			if err := m.ClientExpiring(context.Background(), client(tc.lang)); err != nil {
				t.Fatal(err)
			}
			got := srv.WaitFor(t, 1, 5*time.Second)[0]
			if got.To[0] != "ivan@example.ru" {
				t.Errorf("to %q", got.To)
			}
			if got.Subject != tc.subject {
				t.Errorf("subject %q, want %q", got.Subject, tc.subject)
			}
			if !strings.Contains(got.Body, tc.want) || !strings.Contains(got.Body, "https://ivan.cloud.example.ru") {
				t.Errorf("body lacks %q or the URL:\n%s", tc.want, got.Body)
			}
		})
	}
}

func TestExpiringDaysLeftFollowsClockAndLocation(t *testing.T) {
	srv := smtptest.Start(t)
	// 22:00 UTC on 30 November is already 1 December in Moscow.
	clock := func() time.Time { return time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC) }
	moscow := time.FixedZone("MSK", 3*3600)
	utc, _ := newMailer(t, srv, notify.Config{Clock: clock})
	msk, _ := newMailer(t, srv, notify.Config{Clock: clock, Location: moscow})
	if err := utc.ClientExpiring(context.Background(), client("en")); err != nil {
		t.Fatal(err)
	}
	if err := msk.ClientExpiring(context.Background(), client("en")); err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitFor(t, 2, 5*time.Second)
	if !strings.Contains(msgs[0].Body, "in 1 day.") {
		t.Errorf("UTC body:\n%s", msgs[0].Body)
	}
	if !strings.Contains(msgs[1].Body, "expires today, 2026-12-01.") {
		t.Errorf("Moscow body:\n%s", msgs[1].Body)
	}
}

func TestInvalidClient(t *testing.T) {
	srv := smtptest.Start(t)
	m, _ := newMailer(t, srv, notify.Config{})
	ctx := context.Background()
	noEmail := client("ru")
	noEmail.Email = ""
	badEmail := client("ru")
	badEmail.Email = "not an address"
	noDate := client("ru")
	noDate.ExpireDate = nil
	for name, err := range map[string]error{
		"ready nil client":  m.ClientReady(ctx, nil, "pw"),
		"ready no email":    m.ClientReady(ctx, noEmail, "pw"),
		"ready bad email":   m.ClientReady(ctx, badEmail, "pw"),
		"expiring no email": m.ClientExpiring(ctx, noEmail),
		"expiring no date":  m.ClientExpiring(ctx, noDate),
		"expiring nil":      m.ClientExpiring(ctx, nil),
	} {
		if core.ErrorKind(err) != core.KindInvalid || !core.IsPermanent(err) {
			t.Errorf("%s: err = %v (kind %q), want KindInvalid", name, err, core.ErrorKind(err))
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent for invalid clients", n)
	}
}

func TestUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there now: connections are refused
	m, _ := newMailer(t, nil, notify.Config{Host: "127.0.0.1", Port: addr.Port, Timeout: 2 * time.Second})
	err = m.ClientReady(context.Background(), client("ru"), "pw")
	if core.ErrorKind(err) != core.KindUnavailable || core.IsPermanent(err) {
		t.Fatalf("err = %v (kind %q), want KindUnavailable", err, core.ErrorKind(err))
	}
}

func TestServerRefusesService(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "421 4.3.2 service not available, try later\r\n")
			c.Close()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	m, _ := newMailer(t, nil, notify.Config{Host: "127.0.0.1", Port: addr.Port})
	err = m.ClientExpiring(context.Background(), client("en"))
	if core.ErrorKind(err) != core.KindUnavailable {
		t.Fatalf("err = %v (kind %q), want KindUnavailable", err, core.ErrorKind(err))
	}
}

func TestRecipientRejected(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{Reject: func(rcpt string) bool { return rcpt == "ivan@example.ru" }})
	m, _ := newMailer(t, srv, notify.Config{})
	err := m.ClientReady(context.Background(), client("ru"), "pw")
	if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != "email" {
		t.Fatalf("err = %v (kind %q), want KindInvalid on email", err, core.ErrorKind(err))
	}
}

func TestAuth(t *testing.T) {
	const smtpPassword = "smtp-secret-42"
	srv := smtptest.StartWith(t, smtptest.Options{Username: "relay", Password: smtpPassword})

	m, logs := newMailer(t, srv, notify.Config{Username: "relay", Password: smtpPassword})
	if err := m.ClientReady(context.Background(), client("en"), "owner-pw-1"); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitFor(t, 1, 5*time.Second)[0]; got.Username != "relay" {
		t.Errorf("authenticated as %q", got.Username)
	}

	wrong, wrongLogs := newMailer(t, srv, notify.Config{Username: "relay", Password: "wrong-" + smtpPassword})
	err := wrong.ClientReady(context.Background(), client("en"), "owner-pw-2")
	if core.ErrorKind(err) != core.KindUnavailable {
		t.Errorf("wrong SMTP password: err = %v (kind %q), want KindUnavailable", err, core.ErrorKind(err))
	}
	if strings.Contains(err.Error(), smtpPassword) {
		t.Errorf("error holds the SMTP password: %v", err)
	}

	anon, _ := newMailer(t, srv, notify.Config{})
	if err := anon.ClientReady(context.Background(), client("en"), "pw"); core.ErrorKind(err) != core.KindUnavailable {
		t.Errorf("no login: err = %v, want KindUnavailable", err)
	}

	all := logs.String() + wrongLogs.String()
	for _, secret := range []string{smtpPassword, "owner-pw-1", "owner-pw-2"} {
		if strings.Contains(all, secret) {
			t.Errorf("log holds %q:\n%s", secret, all)
		}
	}
	if !strings.Contains(wrongLogs.String(), `"mail not sent"`) {
		t.Errorf("no log line for the failure: %s", wrongLogs)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
}

func TestStartTLS(t *testing.T) {
	srv := smtptest.StartWith(t, smtptest.Options{TLS: true, Username: "relay", Password: "pw"})
	// The default policy (empty TLS) requires STARTTLS.
	cfg := notify.Config{
		Host: srv.Host, Port: srv.Port, From: "noreply@hostdeck.test",
		Username: "relay", Password: "pw",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs},
		Clock:     func() time.Time { return now },
	}
	m, err := notify.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ClientReady(context.Background(), client("ru"), "pw"); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitFor(t, 1, 5*time.Second)[0]; !got.TLS || got.Username != "relay" {
		t.Errorf("TLS %v, user %q; want a TLS session authenticated as relay", got.TLS, got.Username)
	}

	// An untrusted certificate is refused.
	cfg.TLSConfig = nil
	m, _ = notify.New(cfg, nil)
	if err := m.ClientReady(context.Background(), client("ru"), "pw"); core.ErrorKind(err) != core.KindUnavailable {
		t.Errorf("untrusted certificate: err = %v, want KindUnavailable", err)
	}
}

func TestStartTLSRequiredByDefault(t *testing.T) {
	srv := smtptest.Start(t) // offers no STARTTLS
	m, err := notify.New(notify.Config{Host: srv.Host, Port: srv.Port, From: "noreply@hostdeck.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ClientReady(context.Background(), client("ru"), "pw"); core.ErrorKind(err) != core.KindUnavailable {
		t.Fatalf("err = %v, want KindUnavailable", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message went out in the clear under the default policy")
	}
	opp, _ := newMailer(t, srv, notify.Config{TLS: notify.TLSOpportunistic})
	if err := opp.ClientReady(context.Background(), client("ru"), "pw"); err != nil {
		t.Fatalf("opportunistic: %v", err)
	}
}

func TestConcurrentSends(t *testing.T) {
	srv := smtptest.Start(t)
	m, _ := newMailer(t, srv, notify.Config{})
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := client([]string{"ru", "en"}[i%2])
			c.Email = fmt.Sprintf("user%d@example.ru", i)
			var err error
			if i%3 == 0 {
				err = m.ClientExpiring(context.Background(), c)
			} else {
				err = m.ClientReady(context.Background(), c, fmt.Sprintf("pw-%d", i))
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	msgs := srv.WaitFor(t, n, 10*time.Second)
	seen := map[string]bool{}
	for _, msg := range msgs {
		addr, err := mail.ParseAddress(decodedTo(t, msg))
		if err != nil || addr.Address != msg.To[0] {
			t.Errorf("To header %q vs envelope %q", decodedTo(t, msg), msg.To)
		}
		var i int
		fmt.Sscanf(msg.To[0], "user%d@", &i)
		if i%3 != 0 && !strings.Contains(msg.Body, fmt.Sprintf("pw-%d\n", i)) {
			t.Errorf("message to %s lacks its own password:\n%s", msg.To[0], msg.Body)
		}
		seen[msg.To[0]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct recipients, want %d", len(seen), n)
	}
}

func TestNewConfig(t *testing.T) {
	ok := notify.Config{Host: "smtp.example.ru", From: "Hostdeck <noreply@example.ru>"}
	if _, err := notify.New(ok, nil); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, mod := range map[string]func(*notify.Config){
		"no host":  func(c *notify.Config) { c.Host = "" },
		"no from":  func(c *notify.Config) { c.From = "" },
		"bad from": func(c *notify.Config) { c.From = "not an address" },
		"bad tls":  func(c *notify.Config) { c.TLS = "ssl3" },
		"bad port": func(c *notify.Config) { c.Port = 70000 },
		"negative": func(c *notify.Config) { c.Port = -1 },
	} {
		c := ok
		mod(&c)
		if _, err := notify.New(c, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, p := range []string{notify.TLSStartTLS, notify.TLSOpportunistic, notify.TLSImplicit, notify.TLSNone} {
		c := ok
		c.TLS = p
		if _, err := notify.New(c, nil); err != nil {
			t.Errorf("tls %q: %v", p, err)
		}
	}
}

func TestPasswordReset(t *testing.T) {
	srv := smtptest.Start(t)
	m, logs := newMailer(t, srv, notify.Config{})
	const link = "https://deck.example.test/reset?token=9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
	u := &core.User{ID: "u1", Name: "Grace Hopper", Email: "grace@example.test"}
	expires := time.Date(2026, 11, 24, 11, 30, 0, 0, time.FixedZone("MSK", 3*3600))
	if err := m.PasswordReset(context.Background(), u, link, expires); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if len(got.To) != 1 || got.To[0] != "grace@example.test" || got.Subject != "Reset your password" {
		t.Errorf("to %q, subject %q", got.To, got.Subject)
	}
	for _, w := range []string{"Hello, Grace Hopper!", link, "until 2026-11-24 08:30 UTC"} {
		if !strings.Contains(got.Body, w) {
			t.Errorf("body lacks %q:\n%s", w, got.Body)
		}
	}
	if strings.Contains(logs.String(), "9944b091") {
		t.Errorf("log holds the link: %s", logs)
	}
	for _, bad := range []*core.User{nil, {ID: "u2"}, {ID: "u3", Email: "not an address"}} {
		if err := m.PasswordReset(context.Background(), bad, link, expires); core.ErrorKind(err) != core.KindInvalid {
			t.Errorf("PasswordReset(%+v) = %v, want invalid", bad, err)
		}
	}
}
