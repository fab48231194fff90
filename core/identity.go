package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// DefaultDomainID is the domain every user belongs to unless told otherwise; the
// first migration creates it under the name "Default", as Keystone does.
const DefaultDomainID = "default"

// Reasons of identity errors, stable for faces to map to their own codes.
const (
	ReasonInvalidCredentials = "invalid_credentials"
	ReasonDomainNotFound     = "domain_not_found"
	ReasonUserNotFound       = "user_not_found"
	ReasonGroupNotFound      = "group_not_found"
	ReasonProjectNotFound    = "project_not_found"
	ReasonProjectForbidden   = "project_forbidden"
)

// Group is a named set of users of one domain.
type Group struct {
	ID          string    `json:"id"`
	Number      int64     `json:"number"` // its numeric id (Numbers)
	Name        string    `json:"name"`
	DomainID    string    `json:"domain_id"`
	Description string    `json:"description"`
	Creator     string    `json:"creator"` // the name of the user who made it; "" for the system
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// RoleGrant gives a user a role on a project.
type RoleGrant struct {
	ProjectID string    `json:"project_id"`
	UserID    string    `json:"user_id"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// UserFilter selects users; nil fields do not filter.
type UserFilter struct {
	DomainID  *string
	Name      *string // exact name
	ProjectID *string // users with a role on the project
	Realm     *string
	Email     *string // the e-mail address, in any case (addresses are told apart without it)
	Phone     *string // exact phone number
	Disabled  *bool
	Page
}

// UserUpdate changes the fields that are set.
type UserUpdate struct {
	Name         *string
	Email        *string
	Phone        *string
	PasswordHash *string
	Disabled     *bool
	// PasswordChangedAt and GraceLoginsUsed are set with every new password.
	PasswordChangedAt *time.Time
	GraceLoginsUsed   *int
}

// GroupUpdate changes the fields of a group that are set.
type GroupUpdate struct {
	Name        *string
	Description *string
}

// GroupFilter selects groups.
type GroupFilter struct {
	DomainID *string
	Name     *string // exact name
	Page
}

// DomainReader reads domains, by id or by name.
// UserReader reads one user by id.
type UserReader interface {
	GetUser(ctx context.Context, id string) (*User, error)
}

type DomainReader interface {
	GetDomain(ctx context.Context, id string) (*Domain, error)
	GetDomainByName(ctx context.Context, name string) (*Domain, error)
}

// ResolveDomain finds a domain by id or name; neither means the default domain.
func (s *Service) ResolveDomain(ctx context.Context, q DomainReader, id, name string) (*Domain, error) {
	var d *Domain
	var err error
	switch {
	case id != "":
		d, err = q.GetDomain(ctx, id)
		name = id
	case name != "":
		d, err = q.GetDomainByName(ctx, name)
	default:
		d, err = q.GetDomain(ctx, DefaultDomainID)
	}
	if ErrorKind(err) == KindNotFound {
		return nil, Reasoned(KindNotFound, ReasonDomainNotFound, "domain "+name+" not found", "domain_name", name)
	}
	return d, err
}

func UserNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonUserNotFound, "user "+id+" not found", "user_name", id)
}

func GroupNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonGroupNotFound, "group "+id+" not found", "group_id", id)
}

// ProjectNotFound is the error of an unknown project id.
func ProjectNotFound(id string) error {
	return Reasoned(KindNotFound, ReasonProjectNotFound, "project "+id+" does not exist", "project_name", id)
}

// LookupProject reads a project; a malformed or unknown id is ProjectNotFound.
func LookupProject(ctx context.Context, q interface {
	GetProject(ctx context.Context, id string) (*Project, error)
}, id string) (*Project, error) {
	if !ValidID(id) {
		return nil, ProjectNotFound(id)
	}
	p, err := q.GetProject(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, ProjectNotFound(id)
	}
	return p, err
}

// RealmUser finds a user by id among the accounts of realm; an account of
// another realm is not found, as an unknown id is not.
func RealmUser(ctx context.Context, q interface {
	GetUser(ctx context.Context, id string) (*User, error)
}, realm, id string) (*User, error) {
	u, err := q.GetUser(ctx, id)
	if ErrorKind(err) == KindNotFound || err == nil && u.Realm != realm {
		return nil, Errorf(KindNotFound, "user %s does not exist", id)
	}
	return u, err
}

// Domain is a namespace of users, groups and projects (Keystone's domain).
type Domain struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// Domain returns a domain by id. Domains are no one's secret: any caller, even
// one logging in (a login names its domain), may read one.
func (s *Service) Domain(ctx context.Context, id string) (*Domain, error) {
	return s.ResolveDomain(ctx, s.store, id, "")
}

// CredentialTOTP is the only credential type hostdeck keeps (Keystone's "totp").
const CredentialTOTP = "totp"

// Credential is a Keystone-style credential of a user. Blob is the secret sealed
// with the service's Sealer; it is never shown, logged or hashed. LastStep is the
// last TOTP time step accepted, so a passcode is accepted once.
type Credential struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Type      string    `json:"type"`
	Blob      []byte    `json:"-"`
	LastStep  int64     `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// CredentialFilter selects credentials; nil fields do not filter.
type CredentialFilter struct {
	UserID *string
	Type   *string
	Page
}

// Kinds of token.
const (
	// TokenAPI is an API token: the X-Auth-Token (or Authorization: Bearer)
	// of the trs, broker and satellite faces, Keystone's token. It lives
	// Config.TokenTTL, may be scoped to a project, and logins that open it
	// are held to the login policy (PasswordLogin.Strict).
	TokenAPI = "api"
	// TokenPanel is a hosting panel's session (the billmgr face's auth=): it
	// lives PanelSessionIdle after its last use and PanelSessionMax at most.
	TokenPanel = "panel"
	// TokenKey is a named API key a user makes for its scripts (an admin
	// API's "Authorization: Token …"): it acts as its user, lives until it is
	// deleted or its user is disabled or deleted, and outlives password
	// changes. It has a number, a name, a description and a hint.
	TokenKey = "key"
	// TokenReset is the single-use secret of a forgotten password's reset
	// link: it lives ResetTokenTTL, logs nobody in, and is consumed by the
	// password it sets.
	TokenReset = "reset"
)

// ResetTokenTTL is how long a password reset link works.
const ResetTokenTTL = time.Hour

// A panel session lives an hour without being used, as the panel's do, and
// PanelSessionMax at most however it is used.
const (
	PanelSessionIdle = time.Hour
	PanelSessionMax  = 12 * time.Hour
)

// DefaultTokenTTL is how long an API token lives when Config.TokenTTL is not set.
const DefaultTokenTTL = time.Hour

// Token is a session: the record of a secret a login handed out once. Only
// the secret's SHA-256 (Hash, hex) is stored. ExpiresAt is the end of its
// absolute lifetime; IdleTimeout, when set, ends it that long after
// LastUsedAt, which each use then records. ProjectID, when set, scopes an API
// token to a project; Roles are the user's roles there and Project the
// project (filled when the token is issued, looked up or inspected; not
// stored).
type Token struct {
	ID          string        `json:"id"`
	Hash        string        `json:"-"`
	Kind        string        `json:"kind"`
	UserID      string        `json:"user_id"`
	ProjectID   string        `json:"project_id,omitempty"`
	Methods     []string      `json:"methods"`
	IssuedAt    time.Time     `json:"issued_at"`
	ExpiresAt   time.Time     `json:"expires_at"`
	LastUsedAt  time.Time     `json:"last_used_at"`
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
	RevokedAt   *time.Time    `json:"revoked_at,omitempty"`
	Roles       []Role        `json:"roles,omitempty"`
	Project     *Project      `json:"-"`
	// Number, Name, Description and Hint are an API key's (TokenKey): its
	// numeric id (Numbers), what its user calls it, and the first
	// characters of its secret, to show it masked ("9944…"). The secret
	// itself is shown once, when the key is made.
	Number      int64  `json:"number,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Hint        string `json:"hint,omitempty"`
	// UserName is the name of the token's user, filled by GetToken and
	// ListTokens (not stored).
	UserName string `json:"user_name,omitempty"`
}

// TokenFilter selects tokens; nil fields do not filter.
type TokenFilter struct {
	Kind        *string
	UserID      *string
	Name        *string // exact name
	Description *string // exact description
	Hash        *string // the token whose secret hashes to it (TokenHash)
	Page
}

// TokenUpdate changes the fields of a token that are set (an API key's name
// and description).
type TokenUpdate struct {
	Name        *string
	Description *string
}

// TokenHash is the stored form of a token secret.
func TokenHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
