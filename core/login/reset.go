package login

import (
	"context"
	"strings"
	"time"

	"hostdeck/core"
)

// This file holds forgotten passwords: ForgetPassword e-mails a user a
// single-use link (a token of kind core.TokenReset, living
// core.ResetTokenTTL), and ResetPassword sets a new password with the link's
// secret; and a signed-in user's change of its own password
// (ChangeOwnPassword).

// KindPasswordResetMail is the task that e-mails a reset link.
const KindPasswordResetMail = "login.password_reset_mail"

// ReasonWrongPassword is the error of a password change whose original
// password is wrong (ChangeOwnPassword), for faces to answer with their own
// code: the caller is signed in, so it is not a failed login.
const ReasonWrongPassword = "wrong_password"

// resetRefused is the one message of every refused reset link, so that a
// refusal does not tell an unknown link from a used or expired one.
const resetRefused = "the password reset link is not valid or has expired"

// maxResetUsers bounds the users one forgotten address names (e-mail
// addresses are not unique): each gets a link of its own.
const maxResetUsers = 10

// resetMail is the payload of KindPasswordResetMail. The link holds the
// reset's secret, so it is sealed with the service's Sealer: the tasks table
// then holds no usable secret, and only this process's key opens it. (A link
// cannot be made again in the task from the token's id: its secret is not
// kept, and the caller's link function does not outlive the request.)
type resetMail struct {
	UserID  string `json:"user_id"`
	TokenID string `json:"token_id"`
	Link    []byte `json:"link"` // sealed
}

// ForgetPassword e-mails a reset link to each enabled user of hostdeck's own
// realm whose e-mail address is email (in any case): link makes the link of
// a secret, which the link's holder gives ResetPassword within
// core.ResetTokenTTL. The token and the task that sends the e-mail are
// written in one transaction, audited. An unknown or disabled address, and
// one of another realm's account, is no error and sends nothing, so that the
// answer does not tell which addresses are known. Requests are limited per
// address and per source (the login throttle's blocks: a few at once, then
// 1 s, 2 s, … 256 s between them), past which they are KindTooMany, known
// address or not; an address that is not one line of text is KindInvalid.
func (s *Service) ForgetPassword(ctx context.Context, email string, link func(secret string) string, o Origin) error {
	if link == nil {
		return core.Errorf(core.KindInternal, "no reset link given")
	}
	email = strings.TrimSpace(email)
	if err := core.CheckName("email", email, core.MaxEmailLen); err != nil {
		return err
	}
	if err := s.throttleReset(ctx, email, o.Source); err != nil {
		return err
	}
	users, _, err := s.store.ListUsers(ctx, core.UserFilter{Email: &email, Realm: core.Ptr(core.RealmHostdeck),
		Disabled: core.Ptr(false), Page: core.Page{Limit: maxResetUsers}})
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return nil
	}
	if s.Sealer == nil {
		return core.Errorf(core.KindInternal, "no secret box is configured")
	}
	k, err := s.tokenKind(core.TokenReset)
	if err != nil {
		return err
	}
	actx := core.WithActor(ctx, core.Actor{Face: o.Face, Source: o.Source}) // nobody is signed in
	return core.Change(actx, s.Service, s.store, func(q Queries) error {
		for _, u := range users {
			t, sec := s.newToken(core.TokenReset, k, u, nil)
			if err := s.storeToken(actx, q, k, t); err != nil {
				return err
			}
			p := resetMail{UserID: u.ID, TokenID: t.ID, Link: s.Sealer.Seal([]byte(link(sec)))}
			if _, err := s.Enqueue(actx, q, KindPasswordResetMail, "user", u.ID, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// throttleReset counts a forgotten-password request against its address and
// its source in the login guard (keys of their own, apart from logins'),
// every request as a failure is: KindTooMany when either is blocked.
func (s *Service) throttleReset(ctx context.Context, email, source string) error {
	keys := []string{"reset\x00source\x00" + source, "reset\x00email\x00" + strings.ToLower(email)}
	var taken []string
	release := func() {
		for _, key := range taken {
			s.guard.settleKey(key, nil, s.Now())
		}
	}
	for _, key := range keys {
		wait, queue := s.guard.takeKey(key, s.Now())
		for began := time.Now(); queue != nil; wait, queue = s.guard.takeKey(key, s.Now()) {
			if err := inLine(ctx, queue, began); err != nil {
				release()
				return err
			}
		}
		if wait > 0 {
			release()
			return core.TooMany(wait, "too many password reset requests; retry in %d s", core.Seconds(wait))
		}
		taken = append(taken, key)
	}
	counted := false
	for _, key := range taken {
		s.guard.settleKey(key, &counted, s.Now())
	}
	return nil
}

// runResetMail e-mails a reset link, unless the link was used, has expired
// or its user can no longer log in, which it reports as its result.
func (s *Service) runResetMail(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[resetMail](t)
	if err != nil {
		return nil, err
	}
	skipped := func(why string) (any, error) { return map[string]string{"skipped": why}, nil }
	tok, err := s.store.GetToken(ctx, p.TokenID)
	switch {
	case core.ErrorKind(err) == core.KindNotFound:
		return skipped("the link is gone")
	case err != nil:
		return nil, err
	case tok.RevokedAt != nil:
		return skipped("the link was used")
	case !s.Now().Before(tok.ExpiresAt):
		return skipped("the link has expired")
	}
	u, err := s.store.GetUser(ctx, p.UserID)
	switch {
	case core.ErrorKind(err) == core.KindNotFound:
		return skipped("the user is gone")
	case err != nil:
		return nil, err
	case u.Disabled:
		return skipped("the user is disabled")
	}
	if s.Notifier == nil {
		return nil, core.Permanent(core.Errorf(core.KindUnavailable, "no mailer is configured"))
	}
	l, err := s.Sealer.Open(p.Link)
	if err != nil {
		return nil, core.Permanent(core.Wrap(core.KindInternal, err, "open reset link"))
	}
	if err := s.Notifier.PasswordReset(ctx, u, string(l), tok.ExpiresAt); err != nil {
		return nil, err
	}
	return map[string]string{"to": u.Email}, nil
}

// ResetPassword sets a new password with the secret of a reset link
// (ForgetPassword) and consumes the link, in one transaction, audited as
// user.password_reset. The password passes the password policy (KindInvalid
// otherwise, the link left unused); the password-change script runs when one
// is configured, as for ChangePassword. The user's other tokens and sessions
// end as with every new password (API keys excepted), and so do its other
// reset links. An unknown, used or expired link, one whose user is disabled
// or gone, or one older than the user's password, is KindUnauthenticated with
// reason token_invalid and one message.
func (s *Service) ResetPassword(ctx context.Context, secret, newPassword string, o Origin) error {
	t, u, err := s.resetToken(ctx, s.store, secret)
	if err != nil {
		return err
	}
	up, err := s.passwordUpdate(ctx, newPassword)
	if err != nil {
		return err
	}
	if s.Cfg.PasswordChangeScript != "" {
		if err := s.runPasswordScript(ctx, u.Name, newPassword); err != nil {
			return err
		}
	}
	actx := core.WithActor(ctx, ActorOf(u, o, ""))
	defer s.CredentialsChanged()
	return core.InTx(actx, s.store, func(q Queries) error {
		if _, _, err := s.resetToken(actx, q, secret); err != nil { // as it is now, in the transaction
			return err
		}
		err := q.ConsumeToken(actx, t.ID, s.Now().UTC())
		if k := core.ErrorKind(err); k == core.KindConflict || k == core.KindNotFound { // used meanwhile
			return core.Reasoned(core.KindUnauthenticated, ReasonTokenInvalid, resetRefused)
		}
		if err != nil {
			return err
		}
		if _, err := q.UpdateUser(actx, u.ID, up); err != nil {
			return err
		}
		return s.Audit(actx, q, "user.password_reset", "user", u.ID, map[string]string{"token_id": t.ID})
	})
}

// resetToken is the live reset token whose secret is sec, and its user
// (ResetPassword's refusals).
func (s *Service) resetToken(ctx context.Context, q Queries, sec string) (*core.Token, *core.User, error) {
	refused := core.Reasoned(core.KindUnauthenticated, ReasonTokenInvalid, resetRefused)
	if sec == "" || len(sec) > maxSecretLen {
		return nil, nil, refused
	}
	t, err := q.GetTokenByHash(ctx, core.TokenHash(sec))
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, nil, refused
	}
	if err != nil {
		return nil, nil, authStoreErr(err)
	}
	if t.Kind != core.TokenReset || t.RevokedAt != nil || !s.Now().Before(t.ExpiresAt) {
		return nil, nil, refused
	}
	u, err := q.GetUser(ctx, t.UserID)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, nil, refused
	}
	if err != nil {
		return nil, nil, authStoreErr(err)
	}
	if u.Disabled || u.Realm != core.RealmHostdeck || t.IssuedAt.Before(u.PasswordChangedAt) {
		return nil, nil, refused
	}
	return t, u, nil
}

// ChangeOwnPassword is a signed-in user (the actor in ctx, who must be the
// user userID) changing its own password: original must be its password
// (the login throttle applies; wrong is KindInvalid on field "original" with
// reason wrong_password, since the caller is signed in and this is no failed
// login), and newPassword passes the password policy. The password-change
// script runs when one is configured. As with every new password, the user's
// tokens and sessions end (its API keys excepted). Another user's password is
// KindForbidden: an administrator sets it with SetPassword.
func (s *Service) ChangeOwnPassword(ctx context.Context, userID, original, newPassword string, o Origin) error {
	a := core.ActorFrom(ctx)
	if a.UserID == "" || a.UserID != userID {
		return core.Errorf(core.KindForbidden, "a user changes only its own password; an administrator sets another's")
	}
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if _, err := s.checkPassword(ctx, u.Name, original, o.Source); err != nil {
		if core.ErrorKind(err) == core.KindUnauthenticated {
			return &core.Error{Kind: core.KindInvalid, Field: "original", Reason: ReasonWrongPassword,
				Message: "the original password is wrong"}
		}
		return err
	}
	up, err := s.passwordUpdate(ctx, newPassword)
	if err != nil {
		return err
	}
	if s.Cfg.PasswordChangeScript != "" {
		if err := s.runPasswordScript(ctx, u.Name, newPassword); err != nil {
			return err
		}
	}
	return s.storePassword(ctx, userID, up)
}
