// Package notify sends the e-mails core asks for (core.Notifier) over SMTP with
// github.com/wneessen/go-mail. Messages are plain UTF-8 text rendered from
// embedded templates, in Russian or English by the client's language.
package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"hostdeck/core"
)

// TLS policies for Config.TLS.
const (
	// TLSStartTLS requires STARTTLS: sending fails if the server does not offer
	// it. It is the default, because these e-mails carry passwords.
	TLSStartTLS = "starttls"
	// TLSOpportunistic uses STARTTLS when the server offers it and sends in the
	// clear otherwise.
	TLSOpportunistic = "opportunistic"
	// TLSImplicit connects with TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts: for a relay on the same host or network, and tests.
	TLSNone = "none"
)

// Config configures a Mailer.
type Config struct {
	Host string
	// Port defaults to 587 for starttls and opportunistic, 465 for tls, 25 for none.
	Port int
	// Username, when set, authenticates with AUTH PLAIN or LOGIN (whichever the
	// server offers; both are refused over an unencrypted connection except to
	// localhost) or else the best mechanism the server offers.
	Username, Password string
	// From is the sender, e.g. "Hostdeck <noreply@example.com>".
	From string
	// TLS is the TLS policy: TLSStartTLS (default when empty), TLSOpportunistic,
	// TLSImplicit or TLSNone.
	TLS string
	// TLSConfig, when set, replaces the default (system roots, server name Host),
	// e.g. to trust a private CA. Its ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command; 30s when zero.
	Timeout time.Duration
	// Clock tells the time days left are counted from; time.Now when nil.
	Clock func() time.Time
	// Location is where "today" is taken when counting days left; UTC when nil.
	Location *time.Location
}

// Mailer is a core.Notifier that sends through one SMTP server. Each message is
// sent on a connection of its own, so a Mailer is safe for concurrent use.
type Mailer struct {
	cfg  Config
	from *mail.Address
	opts []gomail.Option
	log  *slog.Logger
}

var _ core.Notifier = (*Mailer)(nil)

// New checks cfg and returns a Mailer. It does not connect. log may be nil.
func New(cfg Config, log *slog.Logger) (*Mailer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Host == "" {
		return nil, errors.New("notify: smtp host is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: from address %q: %w", cfg.From, err)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	defaultPort := 587
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		defaultPort = 465
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		defaultPort = 25
	default:
		return nil, fmt.Errorf("notify: tls policy %q is not one of starttls, opportunistic, tls, none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("notify: smtp port %d out of range", cfg.Port)
	}
	opts = append(opts, gomail.WithPort(cfg.Port))
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.Host
		}
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return &Mailer{cfg: cfg, from: from, opts: opts, log: log}, nil
}

// ClientReady e-mails the owner that the cloud is ready, with its URL, login and
// password. A client without a usable e-mail address is KindInvalid; a mail
// server that cannot be reached or refuses for now is KindUnavailable.
func (m *Mailer) ClientReady(ctx context.Context, c *core.Client, password string) error {
	return m.send(ctx, kindReady, c, data{Password: password})
}

// ClientExpiring e-mails the owner the expiry date and the days left. A client
// without an e-mail address or expiry date is KindInvalid; a mail server that
// cannot be reached or refuses for now is KindUnavailable.
func (m *Mailer) ClientExpiring(ctx context.Context, c *core.Client) error {
	if c != nil && c.ExpireDate == nil {
		return core.Invalid("expire_date", "client %s has no expiry date", c.ID)
	}
	return m.send(ctx, kindExpiring, c, data{})
}

// PasswordReset e-mails a user the link that sets a new password and when it
// expires, in English (users have no language). A user without a usable
// e-mail address is KindInvalid; a mail server that cannot be reached or
// refuses for now is KindUnavailable. The link is a secret: it is never
// logged.
func (m *Mailer) PasswordReset(ctx context.Context, u *core.User, link string, expires time.Time) error {
	if u == nil {
		return core.Invalid("user", "no user given")
	}
	if u.Email == "" {
		return core.Invalid("email", "user %s has no e-mail address", u.ID)
	}
	to, err := mail.ParseAddress(u.Email)
	if err != nil {
		return core.Invalid("email", "user %s has an invalid e-mail address", u.ID)
	}
	to.Name = u.Name
	d := data{Name: u.Name, URL: link, Date: expires.UTC().Format("2006-01-02 15:04 MST")}
	return m.deliver(ctx, kindReset, "en", to, d, "user", u.ID)
}

func (m *Mailer) send(ctx context.Context, kind string, c *core.Client, d data) error {
	if c == nil {
		return core.Invalid("client", "no client given")
	}
	if c.Email == "" {
		return core.Invalid("email", "client %s has no e-mail address", c.ID)
	}
	to, err := mail.ParseAddress(c.Email)
	if err != nil {
		return core.Invalid("email", "client %s has an invalid e-mail address", c.ID)
	}
	to.Name = c.Name
	lang := language(c.Lang)
	d.Name, d.URL, d.Login = c.Name, c.URL, c.OwnerLogin
	if c.ExpireDate != nil {
		d.Date = c.ExpireDate.UTC().Format(dateLayouts[lang])
		d.DaysLeft = daysLeft(m.cfg.Clock(), m.cfg.Location, *c.ExpireDate)
		d.Expired = d.DaysLeft < 0
	}
	return m.deliver(ctx, kind, lang, to, d, "client", c.ID)
}

// deliver renders one kind of e-mail in lang and sends it to to; who and id
// name the record it is about in the log.
func (m *Mailer) deliver(ctx context.Context, kind, lang string, to *mail.Address, d data, who, id string) error {
	subject, body, err := render(kind, lang, d)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(m.from)
	msg.ToMailAddress(to)
	msg.Subject(subject)
	msg.SetDateWithValue(m.cfg.Clock())
	// The sender's domain, not this machine's host name, makes a Message-ID that
	// receiving spam filters accept.
	msg.SetMessageIDWithValue(rand.Text() + "@" + m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:])
	msg.SetUserAgent("hostdeck")
	msg.SetBodyString(gomail.TypeTextPlain, body)

	client, err := gomail.NewClient(m.cfg.Host, m.opts...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		err = m.classify(err)
		m.log.WarnContext(ctx, "mail not sent", "kind", kind, who, id, "to", to.Address, "err", err)
		return err
	}
	m.log.InfoContext(ctx, "mail sent", "kind", kind, who, id, "to", to.Address, "lang", lang)
	return nil
}

// classify gives a sending error its kind: a recipient the server refuses for
// good is KindInvalid (a retry cannot help); anything else (no connection, a
// refused login, a temporary 4xx) is KindUnavailable, so the task retries.
func (m *Mailer) classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
		return &core.Error{Kind: core.KindInvalid, Field: "email", Message: "the mail server refused the recipient", Err: err}
	}
	return core.Wrap(core.KindUnavailable, err, "mail server %s:%d unavailable", m.cfg.Host, m.cfg.Port)
}
