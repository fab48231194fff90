// Package services assembles every capability's use cases over one core
// Service and one store, in the order they depend on each other (instances
// before those that ask for them, logins before the directory and tenancy,
// which set passwords by its rules, the pools' machines and sessions before
// the hand-out), so that the server and the tests build the same set one way.
package services

import (
	"time"

	"hostdeck/core"
	"hostdeck/core/apps"
	"hostdeck/core/billing"
	"hostdeck/core/catalogue"
	"hostdeck/core/cloud"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/desktop/session"
	"hostdeck/core/fleet"
	"hostdeck/core/hosting"
	"hostdeck/core/identity"
	"hostdeck/core/instance"
	"hostdeck/core/links"
	"hostdeck/core/login"
	"hostdeck/core/quota"
	"hostdeck/core/tenancy"
)

// Queries are the store operations of every capability: what each declares
// it needs, together.
type Queries interface {
	core.Queries
	instance.Queries
	cloud.Queries
	hosting.Queries
	catalogue.Queries
	identity.Queries
	login.Queries
	fleet.Queries
	desktop.Queries
	session.Queries
	machine.Queries
	provision.Queries
	handout.Queries
	tenancy.Queries
	billing.Queries
	quota.Queries
	links.Queries
	apps.Queries
}

// Store is a store every capability can use.
type Store interface {
	Queries
	core.Transactor
}

// Options are the capabilities' own settings.
type Options struct {
	ExpiryEvery    time.Duration  // how often tenant clouds' expiry notices go out
	ReconcileEvery time.Duration  // how often the fleet reconciles runtimes with records
	Desktop        desktop.Config // the defaults of new pools
	Session        session.Config // where users' floating IPs come from
}

// Set is every capability's Service. Each registered its task kinds with the
// core Service when it was made: build the task runner after New.
type Set struct {
	Instance  *instance.Service  // an instance's life on its server
	Cloud     *cloud.Service     // tenant clouds (alfa's clients)
	Hosting   *hosting.Service   // owned instances' power actions and rescue
	Catalogue *catalogue.Service // images and flavors
	Identity  *identity.Service  // users, groups and their members, role grants
	Login     *login.Service     // logins, passwords and their policy, second factors, tokens
	Fleet     *fleet.Service     // servers
	Desktop   *desktop.Service   // remote-desktop pools
	Session   *session.Service   // desktop users' sessions, floating IPs, volume assignments
	Machine   *machine.Service   // the pools' machines and their assignments
	Provision *provision.Service // new machines of the pools
	HandOut   *handout.Service   // a machine handed out to a user, the refill, auto-allocation
	Tenancy   *tenancy.Service   // the storage service's customers and their projects
	Billing   *billing.Service   // coupons
	Quota     *quota.Service     // projects' request rate and measured usage
	Links     *links.Service     // links to outside tools
	Apps      *apps.Service      // applications and product lines
}

// New makes every capability's Service over c and st.
func New(c *core.Service, st Store, o Options) *Set {
	instances := instance.New(c, st)
	quotas := quota.New(c, st)
	logins := login.New(c, st, quotas)
	sessions := session.New(c, st, o.Session)
	machines := machine.New(c, st)
	prov := provision.New(c, st, instances, machines)
	return &Set{
		Instance:  instances,
		Cloud:     cloud.New(c, st, instances, cloud.Options{ExpiryEvery: o.ExpiryEvery}),
		Hosting:   hosting.New(c, st, instances),
		Catalogue: catalogue.New(c, st),
		Identity:  identity.New(c, st, logins),
		Login:     logins,
		Fleet:     fleet.New(c, st, instances, fleet.Options{ReconcileEvery: o.ReconcileEvery}),
		Desktop:   desktop.New(c, st, o.Desktop),
		Session:   sessions,
		Machine:   machines,
		Provision: prov,
		HandOut:   handout.New(c, st, machines, prov, sessions),
		Tenancy:   tenancy.New(c, st, logins),
		Billing:   billing.New(c, st),
		Quota:     quotas,
		Links:     links.New(c, st),
		Apps:      apps.New(c, st),
	}
}
