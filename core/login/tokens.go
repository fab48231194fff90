package login

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"hostdeck/core"
	"hostdeck/core/secret"
)

// This file holds hostdeck's one session mechanism: the token. A login that
// opens a session (login.go) issues a token of a kind; every later request
// presents its secret, which is looked up here. Only the secret's SHA-256 is
// stored. A token ends at its absolute expiry, after its idle timeout when its
// kind has one, when it is revoked or deleted, when its user is disabled or
// deleted, and, unless it is an API key (keys.go), when its user's password
// changes after it was issued.

// expiredTokenKeep is how long an expired token stays stored, so that its
// holder is told "expired" rather than "invalid".
const expiredTokenKeep = 24 * time.Hour

// maxSecretLen bounds a presented secret: longer ones are refused unread.
const maxSecretLen = 128

// registerTasks gives core's task runner the token sweep, hourly, and the
// e-mail of a reset link (reset.go).
func (s *Service) registerTasks() {
	s.Register(KindPasswordResetMail, s.runResetMail)
	s.Register(KindTokenSweep, s.runTokenSweep)
	s.RegisterPeriodic(core.PeriodicJob{Kind: KindTokenSweep, Every: TokenSweepEvery})
}

// KindTokenSweep is the periodic job that deletes tokens expired for
// expiredTokenKeep (off the login path, which it slowed).
const KindTokenSweep = "periodic.token_sweep"

// TokenSweepEvery is how often expired tokens are swept.
const TokenSweepEvery = time.Hour

// Reasons of token errors, stable for faces to map to their own codes.
const (
	ReasonTokenInvalid = "token_invalid"
	ReasonTokenExpired = "token_expired"
	ReasonTokenRevoked = "token_revoked"
)

// tokenKind is what a kind of token is: its lifetimes, the rules of the
// logins that open it, and how it is told and refused.
type tokenKind struct {
	maxAge time.Duration // from issue
	idle   time.Duration // after the last use; 0: none, and uses are not recorded
	strict bool          // logins that open it are held to the login policy
	scoped bool          // it may be scoped to a project
	// audit is the audit action of its issue, on the target auditType (the
	// token, or its user).
	audit, auditType string
	secret           func() string
	// refused, when set, is the one message of every refusal, so that a
	// refused token does not tell why.
	refused string
	// keepsPassword: it outlives a change of its user's password (an API key,
	// which scripts hold: a new password must not break them; deleting the
	// key or disabling the user ends it).
	keepsPassword bool
	// noLogin: it is never a credential (a password reset's secret, which
	// ResetPassword alone reads).
	noLogin bool
}

// tokenKind returns the kind named kind.
func (s *Service) tokenKind(kind string) (tokenKind, error) {
	switch kind {
	case core.TokenAPI:
		return tokenKind{maxAge: s.Cfg.TokenTTL, strict: true, scoped: true,
			audit: "token.issue", auditType: "token", secret: secret.RandomToken}, nil
	case core.TokenPanel:
		// The audit action and the secret's form are the panel sessions' own
		// from before they were tokens, so that the audit log and the clients
		// read as they did.
		return tokenKind{maxAge: core.PanelSessionMax, idle: core.PanelSessionIdle,
			audit: "billmgr.session.create", auditType: "user", secret: hexSecret,
			refused: "the session is unknown or has expired"}, nil
	case core.TokenKey:
		return tokenKind{maxAge: keyLifetime, audit: "token.create", auditType: "token", secret: keySecret, keepsPassword: true}, nil
	case core.TokenReset:
		return tokenKind{maxAge: core.ResetTokenTTL, audit: "user.password_forgot", auditType: "user", secret: keySecret,
			noLogin: true, refused: resetRefused}, nil
	}
	return tokenKind{}, core.Errorf(core.KindInternal, "unknown token kind %q", kind)
}

// hexSecret is 16 random bytes in hex.
func hexSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newToken is a token of kind k for u, issued now, and its secret.
func (s *Service) newToken(kind string, k tokenKind, u *core.User, methods []string) (*core.Token, string) {
	now := s.Now().UTC()
	sec := k.secret()
	return &core.Token{
		ID: core.NewID(), Hash: core.TokenHash(sec), Kind: kind, UserID: u.ID, Methods: methods,
		IssuedAt: now, ExpiresAt: now.Add(k.maxAge), LastUsedAt: now, IdleTimeout: k.idle,
	}, sec
}

// storeToken writes a token issued to the actor in ctx, audited, in q's
// transaction.
func (s *Service) storeToken(ctx context.Context, q Queries, k tokenKind, t *core.Token) error {
	if err := q.CreateToken(ctx, t); err != nil {
		return err
	}
	if k.auditType == "user" {
		return s.Audit(ctx, q, k.audit, "user", t.UserID, nil)
	}
	return s.Audit(ctx, q, k.audit, "token", t.ID, map[string]string{"user_id": t.UserID, "project_id": t.ProjectID})
}

// lookupToken returns the live token of kind whose secret is sec, and its
// user, and records the use when the kind has an idle timeout (at most every
// TouchEvery). An unknown, expired (absolutely or idle) or revoked token, one
// of another kind, one issued before its user's password last changed, one
// whose user is gone or disabled, and a scoped one whose user lost every role
// on the project, is KindUnauthenticated with reason token_invalid,
// token_expired or token_revoked. A scoped API token counts against its
// project's request rate. A token found valid a moment ago is not read again
// (cache.go): only what depends on the clock is checked.
func (s *Service) lookupToken(ctx context.Context, kind, sec string) (*core.Token, *core.User, error) {
	k, err := s.tokenKind(kind)
	if err != nil {
		return nil, nil, err
	}
	refuse := func(reason, msg string) error {
		if k.refused != "" {
			msg = k.refused
		}
		return core.Reasoned(core.KindUnauthenticated, reason, msg)
	}
	invalid := refuse(ReasonTokenInvalid, "the token is not valid")
	if sec == "" || len(sec) > maxSecretLen || k.noLogin {
		return nil, nil, invalid
	}
	hash := core.TokenHash(sec)
	now := s.Now()
	if e := s.cache.token(hash, now); e != nil {
		if e.token.Kind != kind {
			return nil, nil, invalid
		}
		return s.cachedToken(ctx, hash, e, now, refuse)
	}
	gen := s.cache.gen.Load() // before the reads: a change committed meanwhile ends what they find
	t, err := s.store.GetTokenByHash(ctx, hash)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && t.Kind != kind {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, authStoreErr(err)
	}
	lastUse := t.LastUsedAt
	if seen := s.cache.lastUse(hash, t.ID); seen.After(lastUse) {
		lastUse = seen
	}
	switch {
	case t.RevokedAt != nil:
		return nil, nil, refuse(ReasonTokenRevoked, "the token was revoked")
	case !now.Before(t.ExpiresAt), t.IdleTimeout > 0 && now.Sub(lastUse) >= t.IdleTimeout:
		return nil, nil, refuse(ReasonTokenExpired, "the token has expired")
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && u.Disabled {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, authStoreErr(err)
	}
	if !k.keepsPassword && t.IssuedAt.Before(u.PasswordChangedAt) {
		return nil, nil, refuse(ReasonTokenRevoked, "the token was revoked: the password changed")
	}
	if t.ProjectID != "" {
		roles, err := s.rolesOn(ctx, t.ProjectID, u)
		if err != nil {
			return nil, nil, authStoreErr(err)
		}
		if len(roles) == 0 { // the grant was taken back
			return nil, nil, invalid
		}
		t.Roles = roles
		if err := s.quota.CheckRate(ctx, t.ProjectID); err != nil {
			return nil, nil, err
		}
	}
	touched := t.LastUsedAt
	if t.IdleTimeout > 0 && now.Sub(t.LastUsedAt) >= TouchEvery {
		if gone, err := s.touch(ctx, t.ID, now); gone {
			return nil, nil, invalid
		} else if err != nil {
			return nil, nil, err
		}
		touched = now
	}
	s.cache.putToken(hash, gen, now, t, u, touched)
	return t, u, nil
}

// cachedToken is lookupToken of a token found valid a moment ago (e): its
// expiry and idle timeout are checked against now, a scoped one counts against
// its project's rate, and its use is written when due.
func (s *Service) cachedToken(ctx context.Context, hash string, e *cachedToken, now time.Time, refuse func(reason, msg string) error) (*core.Token, *core.User, error) {
	t := e.token
	if !now.Before(t.ExpiresAt) || t.IdleTimeout > 0 && now.Sub(time.Unix(0, e.lastUse.Load())) >= t.IdleTimeout {
		s.cache.dropToken(hash, e)
		return nil, nil, refuse(ReasonTokenExpired, "the token has expired")
	}
	if t.ProjectID != "" {
		if err := s.quota.CheckRate(ctx, t.ProjectID); err != nil {
			return nil, nil, err
		}
	}
	e.use(now)
	if t.IdleTimeout > 0 {
		if due, undo := e.touchDue(now); due {
			gone, err := s.touch(ctx, t.ID, now)
			if gone {
				s.cache.dropToken(hash, e)
				return nil, nil, refuse(ReasonTokenInvalid, "the token is not valid")
			}
			if err != nil {
				undo()
				return nil, nil, err
			}
		}
	}
	tc, uc := *t, *e.user
	return &tc, &uc, nil
}

// touch records a use of the token id at now; gone: the token was swept
// meanwhile.
func (s *Service) touch(ctx context.Context, id string, now time.Time) (gone bool, err error) {
	err = s.store.TouchToken(ctx, id, now.UTC())
	if core.ErrorKind(err) == core.KindNotFound {
		return true, nil
	}
	return false, authStoreErr(err)
}

// rolesOn lists u's roles on a project (core.ProjectRolesOf: an administrator
// holds the admin role on every project).
func (s *Service) rolesOn(ctx context.Context, projectID string, u *core.User) ([]core.Role, error) {
	roles, err := s.store.ProjectRoles(ctx, projectID, u.ID)
	if err != nil {
		return nil, err
	}
	return core.ProjectRolesOf(u, roles), nil
}

// InspectToken looks up another API token (Keystone's X-Subject-Token) for
// the actor in ctx, with its project when it is scoped: users may inspect
// their own tokens, admins any (token.view). A token that is not valid is
// KindNotFound, with the reason lookupToken gives.
func (s *Service) InspectToken(ctx context.Context, tok string) (*core.Token, *core.User, error) {
	t, u, err := s.otherToken(ctx, tok, core.ActionTokenView)
	if err != nil {
		return nil, nil, err
	}
	if t.ProjectID != "" {
		if t.Project, err = s.store.GetProject(ctx, t.ProjectID); err != nil {
			return nil, nil, err
		}
	}
	return t, u, nil
}

// otherToken looks up the API token tok for the actor in ctx's action on it.
func (s *Service) otherToken(ctx context.Context, tok string, action core.Action) (*core.Token, *core.User, error) {
	t, u, err := s.lookupToken(ctx, core.TokenAPI, tok)
	if err != nil {
		var e *core.Error
		if errors.As(err, &e) && e.Kind == core.KindUnauthenticated {
			e.Kind = core.KindNotFound
		}
		return nil, nil, err
	}
	if err := s.Check(ctx, action, core.Resource{Type: core.ResourceToken, ID: t.ID, Owner: t.UserID}); err != nil {
		return nil, nil, err
	}
	return t, u, nil
}

// RevokeToken revokes the API token whose secret is tok. Users may revoke
// their own tokens, admins any (token.revoke); a token that is not valid is
// KindNotFound.
func (s *Service) RevokeToken(ctx context.Context, tok string) error {
	t, _, err := s.otherToken(ctx, tok, core.ActionTokenRevoke)
	if err != nil {
		return err
	}
	defer s.CredentialsChanged()
	return core.InTx(ctx, s.store, func(q Queries) error {
		if err := q.RevokeToken(ctx, t.ID, s.Now().UTC()); err != nil {
			return err
		}
		return s.Audit(ctx, q, "token.revoke", "token", t.ID, map[string]string{"user_id": t.UserID})
	})
}

func (s *Service) runTokenSweep(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	n, err := s.store.DeleteExpiredTokens(ctx, s.Now().Add(-expiredTokenKeep))
	if err != nil {
		return nil, err
	}
	return map[string]int{"deleted": n}, nil
}
