package login

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"hostdeck/core"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// This file holds the rules that decide a login beyond its password: the
// password policy (age, expiry warning, grace logins), TOTP second factors
// (Keystone-style credentials), the Web Guard of TRS projects (allowed client
// networks), the external password-change script, and what a login answers
// when the identity store cannot be reached.

// Reasons of the login policy's errors and warnings, stable for faces to map to
// their own codes.
const (
	ReasonPasswordExpired  = "password_expired"  // no grace login left
	ReasonPasswordExpiring = "password_expiring" // a warning: expires within Config.PasswordWarn
	ReasonGraceLogins      = "grace_logins"      // a warning: logged in with an expired password
	ReasonAuthUnavailable  = "auth_unavailable"  // the identity store cannot decide
	ReasonScriptMissing    = "password_script_missing"
	ReasonScriptFailed     = "password_script_failed"
	ReasonWebGuard         = "web_guard"
	ReasonOTPRequired      = "otp_required"
)

// authStoreErr turns a store failure met while deciding a login (database down,
// deadline passed) into KindUnavailable with reason auth_unavailable, keeping
// the cause for logs. Errors a client caused (not found, conflict, wrong
// credentials, …), a cancellation (KindCanceled: the client went away, the
// server is fine) and errors that already carry a reason pass unchanged.
func authStoreErr(err error) error {
	if err == nil || core.ErrorReason(err) != "" {
		return err
	}
	switch core.ErrorKind(err) {
	case core.KindInternal, core.KindUnavailable:
		return &core.Error{Kind: core.KindUnavailable, Reason: ReasonAuthUnavailable,
			Message: "the authentication server is not available", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &core.Error{Kind: core.KindUnavailable, Reason: ReasonAuthUnavailable,
			Message: "the authentication server is not available", Err: err}
	}
	return err
}

// --- password policy ---

// PasswordExpiresAt is when u's password expires under the configured policy,
// or nil when passwords never expire.
func (s *Service) PasswordExpiresAt(u *core.User) *time.Time {
	if s.Cfg.PasswordMaxAge <= 0 {
		return nil
	}
	at := u.PasswordChangedAt.Add(s.Cfg.PasswordMaxAge).UTC()
	return &at
}

// checkPasswordAge applies the policy to a login whose password was right: an
// expired password uses one grace login (audited; u.GraceLoginsUsed is the
// count after it) or, none left, is KindUnauthenticated with reason
// password_expired. A login to change the password is not checked: it is
// how an expired password gets out (ChangePassword).
func (s *Service) checkPasswordAge(ctx context.Context, q Queries, u *core.User) error {
	exp := s.PasswordExpiresAt(u)
	if exp == nil || s.Now().Before(*exp) {
		return nil
	}
	if s.Cfg.GraceLogins > 0 {
		used, err := q.UseGraceLogin(ctx, u.ID, s.Cfg.GraceLogins)
		if err == nil {
			u.GraceLoginsUsed = used
			return s.Audit(ctx, q, "user.grace_login", "user", u.ID, map[string]string{"grace_logins_used": strconv.Itoa(used)})
		}
		if core.ErrorKind(err) != core.KindConflict {
			return authStoreErr(err)
		}
	}
	return core.Reasoned(core.KindUnauthenticated, ReasonPasswordExpired,
		"the password of user "+u.Name+" has expired and must be changed", "user_name", u.Name)
}

// PasswordNotice is the warning a successful login of u carries, or nil: reason
// grace_logins (param "attempts", the grace logins left) when the password has
// expired, reason password_expiring (param "seconds" until expiry) within
// Config.PasswordWarn of expiry. It is a warning to show with the answer, not a
// failure. u must be read after the login (its grace count is then current).
func (s *Service) PasswordNotice(u *core.User) error {
	exp := s.PasswordExpiresAt(u)
	if exp == nil {
		return nil
	}
	now := s.Now()
	if !now.Before(*exp) {
		left := max(s.Cfg.GraceLogins-u.GraceLoginsUsed, 0)
		return core.Reasoned(core.KindUnauthenticated, ReasonGraceLogins,
			fmt.Sprintf("the password has expired; %d grace logins remain", left), "attempts", strconv.Itoa(left))
	}
	if left := exp.Sub(now); s.Cfg.PasswordWarn > 0 && left <= s.Cfg.PasswordWarn {
		secs := int64((left + time.Second - 1) / time.Second) // rounded up: never "0 seconds" before expiry
		return core.Reasoned(core.KindUnauthenticated, ReasonPasswordExpiring,
			fmt.Sprintf("the password expires in %d seconds and needs to be changed", secs), "seconds", strconv.FormatInt(secs, 10))
	}
	return nil
}

// --- TOTP credentials ---

// TOTP parameters: RFC 6238 defaults, as Keystone uses them.
const (
	totpPeriod = 30
	totpSkew   = 1 // steps accepted either side of now
)

// CredentialInput creates a credential: Blob is the base32 TOTP secret.
type CredentialInput struct {
	UserID string
	Type   string
	Blob   string
}

// normTOTPSecret checks a base32 secret (spaces and case ignored, padding
// optional) of at least 80 bits and returns it in canonical form.
func normTOTPSecret(blob string) (string, error) {
	sec := strings.ToUpper(strings.Join(strings.Fields(blob), ""))
	sec = strings.TrimRight(sec, "=")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(sec)
	if err != nil || len(raw) < 10 || len(raw) > 128 {
		return "", core.Invalid("blob", "blob must be a base32 TOTP secret of 16 to 204 characters")
	}
	return sec, nil
}

func credentialNotFound(id string) error {
	return core.Reasoned(core.KindNotFound, "credential_not_found", "credential "+id+" not found", "credential_id", id)
}

// CreateCredential gives a user a TOTP secret (admins, or the user itself).
// From then on the user's logins need a passcode. The secret is sealed; an
// unknown user is KindNotFound, a bad type or secret KindInvalid.
func (s *Service) CreateCredential(ctx context.Context, in CredentialInput) (*core.Credential, error) {
	if in.UserID == "" {
		return nil, core.Invalid("user_id", "user_id is required")
	}
	if err := s.Check(ctx, core.ActionCredentialCreate, core.CredentialResource("", in.UserID)); err != nil {
		return nil, err
	}
	if in.Type != core.CredentialTOTP {
		return nil, core.Invalid("type", "only %q credentials are supported", core.CredentialTOTP)
	}
	sec, err := normTOTPSecret(in.Blob)
	if err != nil {
		return nil, err
	}
	if s.Sealer == nil {
		return nil, core.Errorf(core.KindInternal, "no secret box is configured")
	}
	c := &core.Credential{ID: core.NewID(), UserID: in.UserID, Type: in.Type, Blob: s.Sealer.Seal([]byte(sec)), CreatedAt: s.Now().UTC()}
	defer s.CredentialsChanged() // the user's cached password logins, made without a passcode, end
	err = core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := core.ManagedUser(ctx, q, in.UserID); err != nil {
			return err
		}
		if err := q.CreateCredential(ctx, c); err != nil {
			return err
		}
		return s.Audit(ctx, q, "credential.create", "user", in.UserID, map[string]string{"credential_id": c.ID, "type": c.Type})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListCredentials lists credentials: admins anyone's (userID "" is everyone's),
// members only their own.
func (s *Service) ListCredentials(ctx context.Context, userID, typ string) ([]*core.Credential, error) {
	if err := (core.CredentialFilter{UserID: &userID, Type: &typ}).Check(); err != nil {
		return nil, err
	}
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	if userID == "" && !p.Can(core.ActionCredentialView, core.Resource{Type: core.ResourceCredential}) {
		userID = core.ActorFrom(ctx).UserID // a member's list is its own
	}
	r := core.Resource{Type: core.ResourceCredential} // every user's
	if userID != "" {
		r = core.CredentialResource("", userID)
	}
	if err := p.Check(core.ActionCredentialView, r); err != nil {
		return nil, err
	}
	var f core.CredentialFilter
	if userID != "" {
		f.UserID = &userID
	}
	if typ != "" {
		f.Type = &typ
	}
	f.Limit = 1000
	cs, _, err := s.store.ListCredentials(ctx, f)
	return cs, err
}

// GetCredential returns a credential to its user or an admin.
func (s *Service) GetCredential(ctx context.Context, id string) (*core.Credential, error) {
	if !core.ValidID(id) {
		return nil, credentialNotFound(id)
	}
	c, err := s.store.GetCredential(ctx, id)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, credentialNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx, core.ActionCredentialView, core.CredentialResource(c.ID, c.UserID)); err != nil {
		return nil, credentialNotFound(id)
	}
	return c, nil
}

// DeleteCredential removes a credential (its user or an admin).
func (s *Service) DeleteCredential(ctx context.Context, id string) error {
	c, err := s.GetCredential(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Check(ctx, core.ActionCredentialDelete, core.CredentialResource(c.ID, c.UserID)); err != nil {
		return err
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
		if err := q.DeleteCredential(ctx, id); err != nil {
			if core.ErrorKind(err) == core.KindNotFound {
				return credentialNotFound(id)
			}
			return err
		}
		return s.Audit(ctx, q, "credential.delete", "user", c.UserID, map[string]string{"credential_id": id, "type": c.Type})
	})
}

// totpMatch reports the time step at which passcode is secret's code, within
// totpSkew steps of now.
func totpMatch(secret, passcode string, now time.Time) (int64, bool) {
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	if len(passcode) != opts.Digits.Length() {
		return 0, false
	}
	for d := -totpSkew; d <= totpSkew; d++ {
		at := now.Add(time.Duration(d*totpPeriod) * time.Second)
		code, err := totp.GenerateCodeCustom(secret, at, opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(code), []byte(passcode)) == 1 {
			return at.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// checkPasscode is the second factor of a login whose password was right: a
// user with TOTP credentials must give a passcode (none: KindUnauthenticated,
// reason otp_required), one that is current and not used before (wrong or
// replayed: reason invalid_credentials). Wrong passcodes are throttled per user
// as wrong passwords are per address, since the password was right and does not
// count; used reports whether a passcode was checked.
func (s *Service) checkPasscode(ctx context.Context, u *core.User, passcode, source string) (used bool, err error) {
	cs, _, err := s.store.ListCredentials(ctx, core.CredentialFilter{UserID: &u.ID, Type: core.Ptr(core.CredentialTOTP), Page: core.Page{Limit: 100}})
	if err != nil {
		return false, authStoreErr(err)
	}
	if len(cs) == 0 {
		return false, nil
	}
	if passcode == "" {
		return false, core.Reasoned(core.KindUnauthenticated, ReasonOTPRequired, "a one-time passcode is required", "user_name", u.Name)
	}
	now := s.Now()
	throttle := "otp\x00" + u.ID
	wait, queue := s.guard.takeKey(throttle, now)
	for began := time.Now(); queue != nil; wait, queue = s.guard.takeKey(throttle, s.Now()) {
		if err := inLine(ctx, queue, began); err != nil {
			return false, err
		}
	}
	if wait > 0 {
		return false, core.TooMany(wait, "too many wrong passcodes; retry in %d s", core.Seconds(wait))
	}
	ok, err := s.matchPasscode(ctx, cs, passcode, now)
	if err != nil {
		s.guard.settleKey(throttle, nil, now)
		return false, err
	}
	n := s.guard.settleKey(throttle, &ok, now)
	if ok {
		return true, nil
	}
	s.Log.Warn("login failed: wrong passcode", "user", core.LogText(u.Name), "source", source, "failures", n)
	return false, core.Reasoned(core.KindUnauthenticated, core.ReasonInvalidCredentials, "the user name, password or passcode is wrong", "user_name", u.Name)
}

// matchPasscode reports whether passcode is current for one of the
// credentials and not used before, and records its time step.
func (s *Service) matchPasscode(ctx context.Context, cs []*core.Credential, passcode string, now time.Time) (bool, error) {
	for _, c := range cs {
		sec, err := s.Sealer.Open(c.Blob)
		if err != nil {
			return false, core.Wrap(core.KindInternal, err, "open credential %s", c.ID)
		}
		step, ok := totpMatch(string(sec), passcode, now)
		if !ok {
			continue
		}
		err = s.store.AdvanceCredentialStep(ctx, c.ID, step)
		if core.ErrorKind(err) == core.KindConflict {
			return false, nil // a replayed passcode
		}
		if err != nil {
			return false, authStoreErr(err)
		}
		return true, nil
	}
	return false, nil
}

// --- licence ---

// ReasonLicenseExpired is the error of work refused once the licence has ended.
const ReasonLicenseExpired = "license_expired"

// CheckLicense refuses work after Config.LicenseExpiresAt (KindForbidden,
// reason license_expired, param cloud_url: the address the client used).
func (s *Service) CheckLicense(cloudURL string) error {
	if exp := s.Cfg.LicenseExpiresAt; !exp.IsZero() && !s.Now().Before(exp) {
		return core.Reasoned(core.KindForbidden, ReasonLicenseExpired,
			"the licence of "+cloudURL+" ended on "+exp.UTC().Format(time.DateOnly), "cloud_url", cloudURL)
	}
	return nil
}

// --- password change ---

// DefaultPasswordScriptTimeout bounds the password-change script.
const DefaultPasswordScriptTimeout = 10 * time.Second

// runPasswordScript runs Config.PasswordChangeScript with the user name as its
// argument and the new password (and a newline) on stdin, never in argv or
// env. A missing or non-executable script is reason password_script_missing; a
// non-zero exit or a timeout password_script_failed. Its output is discarded:
// it could echo the password.
func (s *Service) runPasswordScript(ctx context.Context, user, password string) error {
	path := s.Cfg.PasswordChangeScript
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		s.Log.Error("password change script is not usable", "path", path, "err", err)
		return core.Reasoned(core.KindUnavailable, ReasonScriptMissing, "the password change script is missing or not executable")
	}
	timeout := s.Cfg.PasswordChangeScriptTimeout
	if timeout <= 0 {
		timeout = DefaultPasswordScriptTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, user)
	cmd.Stdin = strings.NewReader(password + "\n")
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, os.ErrPermission):
		s.Log.Error("password change script cannot run", "path", path, "err", err)
		return core.Reasoned(core.KindUnavailable, ReasonScriptMissing, "the password change script is missing or not executable")
	}
	var ee *exec.ExitError
	if ctx.Err() != nil {
		s.Log.Error("password change script timed out", "path", path, "user", user, "timeout", timeout)
	} else if errors.As(err, &ee) {
		s.Log.Error("password change script failed", "path", path, "user", user, "exit", ee.ExitCode())
	} else {
		s.Log.Error("password change script failed", "path", path, "user", user, "err", err)
	}
	return core.Reasoned(core.KindUnavailable, ReasonScriptFailed, "the password change script failed; the password is unchanged")
}

// ChangePassword is a user changing its own password: it logs in with in as
// LoginPassword does (its errors; it opens nothing, and an expired password
// may log in to be changed without using a grace login), runs the
// password-change script when one is configured, and stores the new password
// only when the script succeeds. The password's age and grace logins start
// again, and every token the old password opened ends. Keystone's
// own-password change needs no token so that an expired password can be
// changed; the broker's is a strict login.
func (s *Service) ChangePassword(ctx context.Context, in PasswordLogin, newPassword string, o Origin) (*core.User, error) {
	in.Opens, in.Scope = "", ProjectScope{}
	l, err := s.loginPassword(ctx, in, o, true)
	if err != nil {
		return nil, err
	}
	up, err := s.passwordUpdate(ctx, newPassword)
	if err != nil {
		return nil, err
	}
	if s.Cfg.PasswordChangeScript != "" {
		if err := s.runPasswordScript(ctx, l.User.Name, newPassword); err != nil {
			return nil, err
		}
	}
	if err := s.storePassword(core.WithActor(ctx, l.Actor), l.User.ID, up); err != nil {
		return nil, err
	}
	return l.User, nil
}
