package smtptest_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"hostdeck/notify/smtptest"
)

func TestParse(t *testing.T) {
	for name, tc := range map[string]struct {
		raw, subject, body, html string
	}{
		"plain": {
			raw:     "Subject: Hello\r\n\r\nline one\r\nline two\r\n",
			subject: "Hello", body: "line one\nline two\n",
		},
		"quoted-printable": {
			raw: "Subject: =?UTF-8?q?=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82?=\r\n" +
				"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				"=D0=9F=D0=B0=D1=80=D0=BE=D0=BB=D1=8C: a=3Db and a very long line that is =\r\nsoft-broken\r\n",
			subject: "Привет", body: "Пароль: a=b and a very long line that is soft-broken\n",
		},
		"base64 multipart": {
			raw: "Subject: =?UTF-8?b?0J7QsdC70LDQutC+?=\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
				"--XX\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"0J7QsdC70LDQutC+\r\nINCz0L7RgtC+0LLQvg==\r\n" +
				"--XX\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>ready</p>\r\n--XX--\r\n",
			subject: "Облако", body: "Облако готово", html: "<p>ready</p>",
		},
	} {
		m, err := smtptest.Parse([]byte(tc.raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Subject != tc.subject || m.Body != tc.body || m.HTML != tc.html {
			t.Errorf("%s: got subject %q body %q html %q", name, m.Subject, m.Body, m.HTML)
		}
	}
	if _, err := smtptest.Parse([]byte("no header separator")); err == nil {
		t.Error("garbage parsed without error")
	}
}

func TestServerRecords(t *testing.T) {
	srv := smtptest.Start(t)
	if srv.Addr == "" || srv.Host != "127.0.0.1" || srv.Port == 0 {
		t.Fatalf("server address %q %q %d", srv.Addr, srv.Host, srv.Port)
	}
	// net/smtp speaks to a plain server on localhost without TLS.
	msg := "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
	if err := smtp.SendMail(srv.Addr, nil, "a@example.com", []string{"b@example.com", "c@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitFor(t, 1, 5*time.Second)
	m := msgs[0]
	if m.From != "a@example.com" || strings.Join(m.To, ",") != "b@example.com,c@example.com" || m.Subject != "hi" || m.Body != "body\n" {
		t.Errorf("got %+v", m)
	}
	if len(srv.Messages()) != 1 {
		t.Error("Messages disagrees with WaitFor")
	}
}

func TestWaitForTimeout(t *testing.T) {
	srv := smtptest.Start(t)
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.WaitFor(ft, 1, 50*time.Millisecond)
	}()
	<-done
	if !ft.failed {
		t.Fatal("WaitFor did not fail the test on timeout")
	}
}

// fakeTB records Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
}
