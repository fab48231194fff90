package core

import (
	"context"
	"slices"
	"time"
)

// Who may do what: hostdeck's one access policy.
//
// Every use case names the Action it takes and the Resource it takes it on, and
// asks the policy before it changes anything (Service.check, or checkAccess
// inside a transaction); one that needs the record to decide reads it first,
// and answers a record the actor may not see as an unknown one. Faces only
// authenticate: they turn their header, session or token into an Actor and put
// it in the context; they never decide a permission (TestFacesDoNotAuthorize
// keeps them so).
//
// The policy decides from three things:
//
//   - Who the actor is. The system itself (no actor in the context: tasks,
//     startup) may do anything. An administrator
//     (Role admin: hostdeck's administrators, who use alfa, and the satellite's
//     operator, its token) holds every action but the personal ones. An actor
//     without a user (a face's anonymous caller) holds none.
//   - What the action's rule says (access_rules.go, one line per action): whether
//     every signed-in user holds it, the resource's owner, the users of the
//     resource's project (a Keystone role on it, or owning it) and the users a
//     machine is assigned to, or anyone when the resource is public.
//   - Grants (Grant, kept by the store): an action given to a user, or to a
//     group and through it to every member, on one resource or on every
//     resource of the action's type.
//
// So the rule for "who may reboot this instance" is ActionInstanceReboot's line
// in access_rules.go: administrators; the instance's users (the machine is
// assigned to them, or they own or hold a role on its project); and whoever was
// granted instance.reboot on it or on every instance.
//
// Permissions.Check (may the actor take this action?) and Permissions.Actions
// (which actions may it take on this resource? one call) read the same rules,
// so that what a face shows as available is what the use case then allows. LoadPermissions reads what the
// policy must know of an actor once (one store call), so checking a whole page
// of resources costs no more queries than checking one (a face asks
// Service.ActionsOnEach for a page).
//
// Accounts belong to a realm: the admin API that manages them. hostdeck's own
// identity (its administrators, the users its Keystone API makes, the users of
// every face that logs in as a hostdeck user) is RealmHostdeck; the storage
// service's customer accounts are RealmStorage (stored as "satellite", the
// name of the admin API that manages them). An actor manages only the
// accounts of its credential's realm: the satellite's token, or an
// administrator's token presented to the satellite's API, reaches satellite
// accounts and never a hostdeck administrator; hostdeck's identity API never
// changes a satellite account. An account outside the actor's realm answers as
// an unknown one (managedUser), so that its existence does not leak. Logging in
// is not management: every account logs in on every face with its own password.

// Realms of accounts.
const (
	RealmHostdeck = "hostdeck"
	RealmStorage  = "satellite"
)

// Anonymous is the actor of a face's request before it is authenticated: it
// holds no permission, and unlike the zero Actor it is not the system.
func Anonymous(face, source string) Actor {
	return Actor{Name: "anonymous", Face: face, Source: source}
}

// IsSystem reports whether a is the system itself: the zero Actor, which is
// what a context without an actor carries (tasks, startup). Every actor a face
// makes names its face, so no request is the system.
func (a Actor) IsSystem() bool {
	return a.UserID == "" && a.Role == "" && a.Face == "" && a.Realm == "" && a.Source == "" &&
		(a.Name == "" || a.Name == "system")
}

// ManagedRealm is the realm of the accounts a's credential manages.
func (a Actor) ManagedRealm() string {
	if a.Realm == "" {
		return RealmHostdeck
	}
	return a.Realm
}

// reaches reports whether an account-management call by a may see or change u.
func (a Actor) reaches(u *User) bool {
	realm := u.Realm
	if realm == "" {
		realm = RealmHostdeck
	}
	return realm == a.ManagedRealm()
}

// Action is something an actor does to a resource, named "<type>.<verb>"
// (ActionInstanceReboot is "instance.reboot"). Every action has one rule in
// access_rules.go.
type Action string

// ResourceType is a kind of resource actions are taken on.
type ResourceType string

// Resource is what an action is asked on: one record (ID set), or its type as a
// whole (ID empty: creating one, or listing every one). The other fields are the
// facts of the record the rules read; the use case fills them from the record.
type Resource struct {
	Type ResourceType
	ID   string
	// Owner is the user the resource belongs to: the user record itself, a
	// token's or credential's user, an own image's owner.
	Owner string
	// Project is the project the resource belongs to (an instance's).
	Project string
	// Public says every signed-in user may see it (a pub image).
	Public bool
}

// On is the resource of type t with id id.
func On(t ResourceType, id string) Resource { return Resource{Type: t, ID: id} }

// GranteeKind says what a grant is given to.
type GranteeKind string

const (
	GranteeUser  GranteeKind = "user"
	GranteeGroup GranteeKind = "group" // reaches every member of the group
)

// Grantee is who a grant is given to: a user, or a group (a named set of
// users: a role, in the words of some admin APIs) whose grants reach its
// members.
type Grantee struct {
	Kind GranteeKind `json:"kind"`
	ID   string      `json:"id"`
}

// Grant gives Grantee the Action on one resource (ResourceID), or on every
// resource of the action's type when ResourceID is empty: a module-wide
// permission ("see every application").
type Grant struct {
	Grantee    Grantee   `json:"grantee"`
	Action     Action    `json:"action"`
	ResourceID string    `json:"resource_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// GrantFilter selects grants; nil fields do not filter.
type GrantFilter struct {
	Grantee    *Grantee
	ResourceID *string
	// Actions keeps the grants of any of these actions (nil: every action).
	Actions []Action
	Page
}

// GrantSet is what one grantee holds on one resource (or, ResourceID empty,
// on every resource of a type): the actions of that type granted to it, in
// the order of the rules, with the grantee's name and number (a user's or a
// group's), so that a page of permissions reads as one row a grantee and
// resource.
type GrantSet struct {
	Grantee       Grantee  `json:"grantee"`
	GranteeName   string   `json:"grantee_name"`
	GranteeNumber int64    `json:"grantee_number"`
	ResourceID    string   `json:"resource_id"`
	Actions       []Action `json:"actions"`
}

// GrantSetFilter selects grant sets: the grants of Type's actions, grouped by
// grantee and resource; nil fields do not filter.
type GrantSetFilter struct {
	Grantee     *Grantee
	GranteeKind *GranteeKind
	ResourceID  *string
	// ResourceIDs keeps the sets of any of these resources (nil: every one;
	// empty: none).
	ResourceIDs []string
	// Type is the resource type whose actions the sets hold (required).
	Type ResourceType
	// TypeWide keeps only the sets on every resource of Type (true: ResourceID
	// "") or only those on one resource (false).
	TypeWide *bool
	// Page pages over the sets, in the order of their first grant (then
	// grantee and resource); Sort is not taken.
	Page
}

// UserAccess is what the policy must know of a user: its grants (its own and
// its groups'), the projects it owns or holds a Keystone role on, and the
// machines assigned to it.
type UserAccess struct {
	Grants []Grant
	// ProjectRoles are the user's roles by project id; OwnedProjects the ids
	// of the projects it owns.
	ProjectRoles  map[string][]Role
	OwnedProjects []string
	// Assigned are the ids of the instances (TRS machines) assigned to it.
	Assigned []string
}

// AccessStore keeps grants and tells the policy what it must know of a user.
type AccessStore interface {
	// UserAccess returns what the policy must know of the user; an unknown user
	// has nothing.
	UserAccess(ctx context.Context, userID string) (*UserAccess, error)
	// AddGrant stores g and reports whether it was new; granting twice is no
	// change (the first grant stays, and g gets its CreatedAt). An unknown
	// grantee is KindNotFound.
	AddGrant(ctx context.Context, g *Grant) (bool, error)
	// RemoveGrant removes the grant of g's grantee, action and resource;
	// KindNotFound when there is none.
	RemoveGrant(ctx context.Context, g Grant) error
	// ListGrants lists the grants f selects, oldest first, and the number of them.
	ListGrants(ctx context.Context, f GrantFilter) ([]*Grant, int, error)
	// ListGrantSets lists a page of the grant sets f selects and the number of
	// sets it selects (GrantSetFilter says the order).
	ListGrantSets(ctx context.Context, f GrantSetFilter) ([]*GrantSet, int, error)
}

// ScopedAccessStore is an AccessStore that also reads what the policy must
// know of a user for some resources only: its grants on those resources and
// on every resource of a type, and the rest of UserAccess whole. What
// Permissions then answers about those resources is what the whole read
// would. ActionsOnEach uses it when the store has it, so that a page costs
// a read of what concerns the page, however many grants the user holds.
type ScopedAccessStore interface {
	UserAccessOn(ctx context.Context, userID string, resourceIDs []string) (*UserAccess, error)
}

// maxScopedIDs bounds the resources a scoped read names; a bigger page reads
// the user's grants whole.
const maxScopedIDs = 1000

// Permissions is what an actor may do, loaded once (LoadPermissions) and then
// asked about any number of resources without the store.
type Permissions struct {
	actor Actor
	user  *UserAccess // nil for the system, an administrator or an actor without a user
	// granted indexes user's grants by action, so that a check costs the
	// same however many grants the user holds.
	granted map[Action]*grantedTo
}

// grantedTo is where grants give an action: on every resource of its type,
// or on those of ids.
type grantedTo struct {
	every bool
	ids   map[string]bool
}

// LoadPermissions reads what the policy must know of a: nothing for the
// system, an administrator or an anonymous actor; one store call otherwise.
func LoadPermissions(ctx context.Context, st AccessStore, a Actor) (*Permissions, error) {
	return loadPermissions(a, func() (*UserAccess, error) { return st.UserAccess(ctx, a.UserID) })
}

// loadPermissions is LoadPermissions reading the user's access with read.
func loadPermissions(a Actor, read func() (*UserAccess, error)) (*Permissions, error) {
	p := &Permissions{actor: a}
	if a.IsSystem() || a.Role == RoleAdmin || a.UserID == "" {
		return p, nil
	}
	ua, err := read()
	if err != nil {
		return nil, err
	}
	p.user = ua
	p.granted = map[Action]*grantedTo{}
	for _, g := range ua.Grants {
		to := p.granted[g.Action]
		if to == nil {
			to = &grantedTo{ids: map[string]bool{}}
			p.granted[g.Action] = to
		}
		if g.ResourceID == "" {
			to.every = true
		} else {
			to.ids[g.ResourceID] = true
		}
	}
	return p, nil
}

// Check is nil when the actor may take action on r, and KindForbidden naming
// the actor and the action otherwise.
func (p *Permissions) Check(action Action, r Resource) error {
	rule, err := ruleOf(action, r)
	if err != nil {
		return err
	}
	if p.allows(rule, r) {
		return nil
	}
	who := p.actor.Name
	if p.actor.UserID != "" {
		who = "user " + who
	}
	return Errorf(KindForbidden, "%s is not allowed to %s", who, rule.what)
}

// Can reports whether the actor may take action on r (false for a misused
// action, which Check reports).
func (p *Permissions) Can(action Action, r Resource) bool {
	rule, err := ruleOf(action, r)
	return err == nil && p.allows(rule, r)
}

// Actions lists the actions of r's type the actor may take on r, in the order
// of access_rules.go: the same answers Check gives one by one.
func (p *Permissions) Actions(r Resource) []Action {
	var out []Action
	for i := range rules {
		if rules[i].on == r.Type && p.allows(&rules[i], r) {
			out = append(out, rules[i].action)
		}
	}
	return out
}

// allows applies rule to the actor and r (see the comment at the top of this
// file).
func (p *Permissions) allows(rule *actionRule, r Resource) bool {
	a := p.actor
	switch {
	case a.IsSystem():
		return true
	case rule.holders&personal != 0:
		return a.UserID != "" && r.Owner == a.UserID
	case a.Role == RoleAdmin:
		return true
	case a.UserID == "" || p.user == nil:
		return false
	case rule.holders&anyone != 0,
		rule.holders&owner != 0 && r.Owner != "" && r.Owner == a.UserID,
		rule.holders&public != 0 && r.Public,
		rule.holders&members != 0 && p.user.member(r):
		return true
	}
	to := p.granted[rule.action]
	return to != nil && (to.every || r.ID != "" && to.ids[r.ID])
}

// member reports whether the user is one of r's users: r is assigned to it, or
// it owns or holds a role on r's project.
func (ua *UserAccess) member(r Resource) bool {
	if r.ID != "" && slices.Contains(ua.Assigned, r.ID) {
		return true
	}
	if r.Project == "" {
		return false
	}
	return len(ua.ProjectRoles[r.Project]) > 0 || slices.Contains(ua.OwnedProjects, r.Project)
}

// checkAccess asks the policy whether the actor in ctx may take action on r,
// reading what it needs through st (the store, or the transaction's queries).
func checkAccess(ctx context.Context, st AccessStore, action Action, r Resource) error {
	p, err := LoadPermissions(ctx, st, ActorFrom(ctx))
	if err != nil {
		return err
	}
	return p.Check(action, r)
}

// Allowed is checkAccess as a yes or no, for a use case that answers a
// resource the actor may not see as an unknown one; only a failure to decide is
// an error.
func Allowed(ctx context.Context, st AccessStore, action Action, r Resource) (bool, error) {
	err := checkAccess(ctx, st, action, r)
	if ErrorKind(err) == KindForbidden {
		return false, nil
	}
	return err == nil, err
}

// Check asks the policy whether the actor in ctx may take action on r.
func (s *Service) Check(ctx context.Context, action Action, r Resource) error {
	return checkAccess(ctx, s.store, action, r)
}

// Permissions loads what the actor in ctx may do, to ask about many resources
// at once (a page of a list and each one's available actions).
func (s *Service) Permissions(ctx context.Context) (*Permissions, error) {
	return LoadPermissions(ctx, s.store, ActorFrom(ctx))
}

// Actions lists the actions the actor in ctx may take on r.
func (s *Service) Actions(ctx context.Context, r Resource) ([]Action, error) {
	p, err := s.Permissions(ctx)
	if err != nil {
		return nil, err
	}
	return p.Actions(r), nil
}

// ActionsOnEach lists the actions the actor in ctx may take on each of rs (a
// page a face shows with what its caller may do to each row), reading the
// store once whatever their number.
func (s *Service) ActionsOnEach(ctx context.Context, rs []Resource) ([][]Action, error) {
	if len(rs) == 0 {
		return [][]Action{}, nil
	}
	a := ActorFrom(ctx)
	read := func() (*UserAccess, error) { return s.store.UserAccess(ctx, a.UserID) }
	if scoped, ok := s.store.(ScopedAccessStore); ok {
		var ids []string
		seen := map[string]bool{}
		for _, r := range rs {
			if r.ID != "" && !seen[r.ID] {
				seen[r.ID] = true
				ids = append(ids, r.ID)
			}
		}
		if len(ids) <= maxScopedIDs {
			read = func() (*UserAccess, error) { return scoped.UserAccessOn(ctx, a.UserID, ids) }
		}
	}
	p, err := loadPermissions(a, read)
	if err != nil {
		return nil, err
	}
	out := make([][]Action, len(rs))
	for i, r := range rs {
		out[i] = p.Actions(r)
	}
	return out, nil
}

// ProjectRolesOf is the roles u holds on a project it was granted roles on:
// the granted ones, and admin for an administrator, who holds it on every
// project.
func ProjectRolesOf(u *User, granted []Role) []Role {
	if u.Role == RoleAdmin && !slices.Contains(granted, RoleAdmin) {
		granted = append(granted, RoleAdmin)
	}
	return granted
}

// ValidRole reports whether r is one of hostdeck's roles.
func ValidRole(r Role) bool { return r == RoleAdmin || r == RoleMember }

// ManagedUser loads the account id for an account-management call of the actor
// in ctx: an unknown id, or an account outside the actor's realm that is not
// the actor's own, is userNotFound.
func ManagedUser(ctx context.Context, q UserReader, id string) (*User, error) {
	if !ValidID(id) {
		return nil, UserNotFound(id)
	}
	u, err := q.GetUser(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, UserNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if a := ActorFrom(ctx); a.UserID != u.ID && !a.reaches(u) {
		return nil, UserNotFound(id)
	}
	return u, nil
}
