package core

import "context"

// This file holds who may do what: the role check every use case applies, and
// which accounts an actor's credential reaches at all.
//
// Accounts belong to a realm: the admin API that manages them. hostdeck's own
// identity (its administrators, the users its Keystone API makes, the users of
// every face that logs in as a hostdeck user) is RealmHostdeck; the storage
// satellite's customer accounts are RealmSatellite. An actor manages only the
// accounts of its credential's realm: the satellite's token, or an
// administrator's token presented to the satellite's API, reaches satellite
// accounts and never a hostdeck administrator; hostdeck's identity API never
// changes a satellite account. An account outside the actor's realm answers as
// an unknown one, so that its existence does not leak. Logging in is not
// management: every account logs in on every face with its own password.

// Realms of accounts.
const (
	RealmHostdeck  = "hostdeck"
	RealmSatellite = "satellite"
)

// realm is the realm of the accounts a's credential manages.
func (a Actor) realm() string {
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
	return realm == a.realm()
}

// Authorize is hostdeck's one role check: it says whether u may act with the
// rights of role need (an admin may do anything a member may).
func Authorize(u *User, need Role) error {
	if u.Role == RoleAdmin || u.Role == need {
		return nil
	}
	return Errorf(KindForbidden, "user %s is not allowed to do this (needs role %s)", u.Name, need)
}

// authorize applies Authorize to the actor in ctx.
func (s *Service) authorize(ctx context.Context, need Role) error {
	a := ActorFrom(ctx)
	return Authorize(&User{ID: a.UserID, Name: a.Name, Role: a.Role}, need)
}

// checkSelfOrAdmin allows the actor acting on its own record, or an admin.
func (s *Service) checkSelfOrAdmin(ctx context.Context, userID string) error {
	if a := ActorFrom(ctx); a.UserID != "" && a.UserID == userID {
		return nil
	}
	return s.authorize(ctx, RoleAdmin)
}

// managedUser loads the account id for an account-management call of the actor
// in ctx: an unknown id, or an account outside the actor's realm that is not
// the actor's own, is userNotFound.
func managedUser(ctx context.Context, q Queries, id string) (*User, error) {
	if !ValidID(id) {
		return nil, userNotFound(id)
	}
	u, err := q.GetUser(ctx, id)
	if ErrorKind(err) == KindNotFound {
		return nil, userNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if a := ActorFrom(ctx); a.UserID != u.ID && !a.reaches(u) {
		return nil, userNotFound(id)
	}
	return u, nil
}
