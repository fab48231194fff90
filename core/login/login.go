package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"hostdeck/core"
	"strings"
)

// This file holds the login entry points, one per kind of credential: a
// password (with the TOTP passcode Keystone's logins add to it), a token a
// login opened (tokens.go), and the operator's token of the account admin API.
// Each returns the Login whose Actor the face puts in the request's context:
// actors of users are made here, in ActorOf, and nowhere else.

// Origin is where a credential is presented: the face and the client's
// address. A login stamps both on its actor; the login throttle counts by the
// address.
type Origin struct {
	Face   string `json:"face"`
	Source string `json:"source"`
}

// Login is a login that succeeded.
type Login struct {
	// Actor is who acts from now on: the face puts it in the context.
	Actor core.Actor
	// User is the user logged in (nil for the operator).
	User *core.User
	// Token is the token presented, or the one the login opened; nil when
	// there is none.
	Token *core.Token
	// Secret is the secret of the token the login opened, shown once.
	Secret string
	// Notice is the password policy's warning to a strict password login
	// (PasswordNotice), nil when there is none.
	Notice error
}

// ActorOf is the actor of u logged in from o, managing the accounts of realm
// (RealmHostdeck when empty): the one place an actor is made of a user.
func ActorOf(u *core.User, o Origin, realm string) core.Actor {
	return core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: o.Face, Source: o.Source, Realm: realm}
}

// PasswordLogin is a password credential, and what the login opens with it.
//
// The user is named by UserID or by UserName. A strict login is held to the
// login policy (policy.go), as Keystone's logins are: the user is looked for
// in the domain DomainID or DomainName (the default domain when both are
// empty; a user named by id without a domain is looked for in its own), and an
// expired password uses a grace login or is refused. A login that opens an API
// token is strict. Other logins are decided by the password, the name looked
// up in every domain: a password sent with every request (HTTP Basic, the
// panel's authinfo) cannot spend a grace login per request. Every login of a
// user with a TOTP credential must give Passcode, so such a user cannot log in
// where none can be given (HTTP Basic, the panel's logins): a second factor is
// never skipped by choosing another face.
type PasswordLogin struct {
	UserID, UserName     string
	DomainID, DomainName string
	Password             string
	Passcode             string
	Strict               bool
	// Opens is the kind of token the login opens (TokenAPI, TokenPanel), or
	// "" for none.
	Opens string
	// Scope is the project an API token is scoped to.
	Scope ProjectScope
}

// ProjectScope names a project: by ID, or by Name in the domain DomainID or
// DomainName. A scope that names neither is none.
type ProjectScope struct {
	ID, Name             string
	DomainID, DomainName string
}

func (sc ProjectScope) named() bool { return sc.ID != "" || sc.Name != "" }

// LoginPassword checks a password credential (the login throttle of
// checkPassword applies) and opens the token in.Opens asks for. Wrong
// credentials, an unknown user or one of another domain are
// KindUnauthenticated with reason invalid_credentials; an unknown domain is
// reason domain_not_found; a missing or wrong passcode otp_required or
// invalid_credentials; an expired password with no grace login left
// password_expired; a store that cannot be read auth_unavailable. A project
// scope needs a role on the project unless the user is an admin.
func (s *Service) LoginPassword(ctx context.Context, in PasswordLogin, o Origin) (*Login, error) {
	return s.loginPassword(ctx, in, o, false)
}

// loginPassword is LoginPassword; toChange lets an expired password log in
// without using a grace login, to be changed.
func (s *Service) loginPassword(ctx context.Context, in PasswordLogin, o Origin, toChange bool) (*Login, error) {
	var k tokenKind
	if in.Opens != "" {
		var err error
		if k, err = s.tokenKind(in.Opens); err != nil {
			return nil, err
		}
	}
	if in.Scope.named() && !k.scoped {
		return nil, core.Invalid("scope", "only an API token is scoped to a project")
	}
	strict := in.Strict || k.strict
	gen, at := s.cache.gen.Load(), s.Now() // before the reads: the token issued is cached as found valid then
	var u *core.User
	var methods []string
	var err error
	if in.Opens == "" && !strict && in.UserID == "" && in.Passcode == "" {
		u, err = s.checkRequestPassword(ctx, in, o.Source)
	} else {
		u, methods, err = s.checkCredential(ctx, in, o.Source, strict)
	}
	if err != nil {
		return nil, err
	}
	l := &Login{Actor: ActorOf(u, o, ""), User: u}
	if in.Opens != "" {
		l.Token, l.Secret = s.newToken(in.Opens, k, u, methods)
		if in.Scope.named() {
			p, roles, err := s.scope(ctx, u, in.Scope)
			if err != nil {
				return nil, authStoreErr(err)
			}
			l.Token.ProjectID, l.Token.Roles, l.Token.Project = p.ID, roles, p
		}
	}
	// The password's age is checked with the token stored, so that a grace
	// login is used only by a login that succeeds.
	if age := strict && !toChange; age || l.Token != nil {
		actx := core.WithActor(ctx, l.Actor)
		err := core.InTx(actx, s.store, func(q Queries) error {
			if age {
				if err := s.checkPasswordAge(actx, q, u); err != nil {
					return err
				}
			}
			if l.Token == nil {
				return nil
			}
			return s.storeToken(actx, q, k, l.Token)
		})
		if err != nil {
			return nil, authStoreErr(err)
		}
		if l.Token != nil { // its first use (get-vm after request-vm) reads nothing
			s.cache.putToken(l.Token.Hash, gen, at, l.Token, u, l.Token.LastUsedAt)
		}
	}
	if strict {
		l.Notice = s.PasswordNotice(u)
	}
	return l, nil
}

// checkCredential finds the user of a password login and checks the password
// (checkPassword) and, for a strict login, the user's domain and second
// factor. It returns the user and the methods that proved it.
func (s *Service) checkCredential(ctx context.Context, in PasswordLogin, source string, strict bool) (*core.User, []string, error) {
	var d *core.Domain
	if strict {
		var err error
		if d, err = s.ResolveDomain(ctx, s.store, in.DomainID, in.DomainName); err != nil {
			return nil, nil, authStoreErr(unauthenticatedDomain(err))
		}
	}
	name := in.UserName
	if in.UserID != "" {
		name = "\x00" + in.UserID // no user has this name: checkPassword fails and counts it
		if core.ValidID(in.UserID) {
			u, err := s.store.GetUser(ctx, in.UserID)
			if err != nil && core.ErrorKind(err) != core.KindNotFound {
				return nil, nil, authStoreErr(err)
			}
			if u != nil && (!strict || in.DomainID == "" && in.DomainName == "" || u.DomainID == d.ID) {
				name = u.Name
				d = &core.Domain{ID: u.DomainID}
			}
		}
	}
	u, err := s.checkPassword(ctx, name, in.Password, source)
	if err == nil && strict && u.DomainID != d.ID {
		err = core.Errorf(core.KindUnauthenticated, "wrong user name or password")
	}
	if err != nil {
		if core.ErrorKind(err) == core.KindUnauthenticated && core.ErrorReason(err) == "" {
			return nil, nil, core.Reasoned(core.KindUnauthenticated, core.ReasonInvalidCredentials, "wrong user name or password",
				"user_name", in.UserName, "domain_name", firstNonEmpty(in.DomainName, in.DomainID))
		}
		return nil, nil, err
	}
	// The second factor holds for every login: a user who has one cannot log in
	// where no passcode can be given (HTTP Basic, the panel), only where it can.
	methods := []string{"password"}
	used, err := s.checkPasscode(ctx, u, in.Passcode, source)
	if err != nil {
		return nil, nil, err
	}
	if used {
		methods = append(methods, "totp")
	}
	return u, methods, nil
}

// checkRequestPassword is checkCredential of a password sent with every
// request (HTTP Basic, the panel's authinfo: a login by user name that is not
// strict, gives no passcode and opens nothing). One that succeeded a moment
// ago is taken from the cache (cache.go) without reading the store, the
// login guard's blocks of the address still applying; any other goes through
// checkCredential, and enters the cache when it succeeds.
func (s *Service) checkRequestPassword(ctx context.Context, in PasswordLogin, source string) (*core.User, error) {
	now := s.Now()
	key := s.cache.sum("password", in.UserName, in.Password)
	if u := s.cache.password(key, now); u != nil {
		if wait := s.guard.refusal(source, throttleKey(in.UserName), now); wait > 0 {
			return nil, core.TooMany(wait, "too many failed logins; retry in %d s", core.Seconds(wait))
		}
		return u, nil
	}
	gen := s.cache.gen.Load() // before the reads: a change committed meanwhile ends what they find
	u, _, err := s.checkCredential(ctx, in, source, false)
	if err != nil {
		return nil, err
	}
	s.cache.putPassword(key, gen, now, u)
	return u, nil
}

// unauthenticatedDomain makes an unknown domain named by a login
// KindUnauthenticated, keeping its reason.
func unauthenticatedDomain(err error) error {
	var e *core.Error
	if errors.As(err, &e) && e.Reason == core.ReasonDomainNotFound {
		e.Kind = core.KindUnauthenticated
	}
	return err
}

// LoginToken looks up a token of kind by its secret (lookupToken: its errors)
// and returns its user's login.
func (s *Service) LoginToken(ctx context.Context, kind, secret string, o Origin) (*Login, error) {
	t, u, err := s.lookupToken(ctx, kind, secret)
	if err != nil {
		return nil, err
	}
	return &Login{Actor: ActorOf(u, o, ""), User: u, Token: t}, nil
}

// operator is who holds the account admin API's operator token.
var operator = &core.User{Name: "satellite-admin", Role: core.RoleAdmin}

// LoginOperator authenticates the credential of the account admin API (the
// storage satellite's): its raw Authorization header is the operator token
// (Config.OperatorToken, compared in constant time), or in its place an API
// token (optionally after "Bearer ") of a user the access policy lets use the
// storage module (administrators). Either acts in RealmStorage: on the
// satellite's customer accounts only. Anything else is KindForbidden with the
// message "Forbidden", or "Authorization not enabled." when no operator token
// is configured.
func (s *Service) LoginOperator(ctx context.Context, header string, o Origin) (*Login, error) {
	if tok := s.Cfg.OperatorToken; tok != "" && subtle.ConstantTimeCompare([]byte(header), []byte(tok)) == 1 {
		return &Login{Actor: ActorOf(operator, o, core.RealmStorage)}, nil
	}
	if header != "" {
		t, u, err := s.lookupToken(ctx, core.TokenAPI, strings.TrimPrefix(header, "Bearer "))
		switch core.ErrorKind(err) {
		case "":
			l := &Login{Actor: ActorOf(u, o, core.RealmStorage), User: u, Token: t}
			p, err := s.Permissions(core.WithActor(ctx, l.Actor))
			if err != nil {
				return nil, err
			}
			if p.Can(core.ActionModuleUse, core.On(core.ResourceModule, core.ModuleStorage)) {
				return l, nil
			}
		case core.KindUnauthenticated:
		default:
			return nil, err
		}
	}
	if s.Cfg.OperatorToken == "" {
		return nil, core.Errorf(core.KindForbidden, "Authorization not enabled.")
	}
	return nil, core.Errorf(core.KindForbidden, "Forbidden")
}

// scope resolves the project a login asks for and the user's roles on it.
func (s *Service) scope(ctx context.Context, u *core.User, sc ProjectScope) (*core.Project, []core.Role, error) {
	var p *core.Project
	var err error
	what := sc.ID
	if sc.ID != "" {
		if core.ValidID(sc.ID) {
			p, err = s.store.GetProject(ctx, sc.ID)
		} else {
			err = core.NotFound("project", sc.ID)
		}
	} else {
		what = sc.Name
		if _, err := s.ResolveDomain(ctx, s.store, sc.DomainID, sc.DomainName); err != nil {
			return nil, nil, unauthenticatedDomain(err)
		}
		p, err = s.store.FindProjectByName(ctx, sc.Name)
	}
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, nil, core.Reasoned(core.KindUnauthenticated, core.ReasonProjectNotFound, "project "+what+" not found", "project_name", what)
	}
	if err != nil {
		return nil, nil, err
	}
	roles, err := s.rolesOn(ctx, p.ID, u)
	if err != nil {
		return nil, nil, err
	}
	if len(roles) == 0 {
		return nil, nil, core.Reasoned(core.KindUnauthenticated, core.ReasonProjectForbidden,
			"user "+u.Name+" has no role on project "+p.Name, "project_name", p.Name, "user_name", u.Name)
	}
	return p, roles, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
