package session

import (
	"context"
	"hostdeck/core"
	"net/netip"
	"strings"
	"time"
)

// This file holds what is recorded around the pools' machines: remote-desktop
// sessions, and users' floating IP addresses.

// Connection types of a session (the document's conn_type).
const (
	ConnWeb    = "web"    // through the web client
	ConnSSH    = "ssh"    // through the console
	ConnClient = "client" // through the RSclient application
)

// DefaultFloatingIPPool is the pool floating IPs come from when Config.FloatingIPPool
// is not set (OpenStack devstack's public range).
const DefaultFloatingIPPool = "172.24.4.0/24"

// Session is one remote-desktop connection of a user to a machine (an instance).
// UserName, InstanceName and ProjectID are copied when the session is recorded, so
// the history reads the same after a machine or a user is gone.
type Session struct {
	ID           string     `json:"session_id"`
	UserID       string     `json:"user_id"`
	UserName     string     `json:"user_name"`
	InstanceID   string     `json:"instance_id"`
	InstanceName string     `json:"instance_name"`
	ProjectID    string     `json:"project_id"`
	ConnType     string     `json:"connection_type"` // ConnWeb, ConnSSH, ConnClient or ""
	ClientIP     string     `json:"client_ip"`
	ClientOS     string     `json:"client_os"`
	ClientInfo   string     `json:"client_info"`
	CreatedAt    time.Time  `json:"created_at"`
	ClosedAt     *time.Time `json:"closed_at"`
}

// SessionInput is what a client reports when it connects.
type SessionInput struct {
	InstanceID string
	ConnType   string
	ClientIP   string
	ClientOS   string
	ClientInfo string
}

// TimeRange bounds a time; nil bounds do not filter.
type TimeRange struct {
	GT, GTE, LT, LTE *time.Time
}

// SessionFilter selects sessions; nil fields do not filter. UserID, UserName and
// InstanceID take the document's modifiers (eq, neq, in, nin); CreatedAt bounds
// the start time. Last keeps only the newest session of each user on each machine
// (decided over all sessions, before the other filters apply). Sessions list
// newest first.
type SessionFilter struct {
	UserID       *core.Cond
	UserName     *core.Cond
	InstanceID   *core.Cond
	InstanceName *string
	ProjectID    *string
	ConnType     *string
	Last         bool
	CreatedAt    TimeRange
	core.Page
}

// FloatingIP is a public address of the configured pool held by one user. ID is
// what the document calls floating_ip_id.
type FloatingIP struct {
	ID        string    `json:"floating_ip_id"`
	UserID    string    `json:"user_id"`
	Address   string    `json:"floating_ip_address"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// FloatingIPRequest says which floating IP a user gets: Ref is the id the record
// takes (a UUID, as an RS client sends it) or an address of the pool to take; empty
// means a new id and the lowest free address.
type FloatingIPRequest struct {
	Ref string
}

// SessionStore keeps sessions, floating IPs and volume assignments.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// GetSession is KindNotFound for an unknown id.
	GetSession(ctx context.Context, id string) (*Session, error)
	ListSessions(ctx context.Context, f SessionFilter) ([]*Session, int, error)
	CountSessions(ctx context.Context, f SessionFilter) (int, error)
	// CloseSession sets closed_at; a closed session keeps its first time.
	// KindNotFound for an unknown id.
	CloseSession(ctx context.Context, id string, at time.Time) (*Session, error)
	// CloseOpenSessions closes the user's open sessions on the instance.
	CloseOpenSessions(ctx context.Context, userID, instanceID string, at time.Time) (int, error)

	// CreateFloatingIP is KindConflict when the user has one, or the id or the
	// address is taken.
	CreateFloatingIP(ctx context.Context, ip *FloatingIP) error
	// GetFloatingIP returns the user's floating IP; KindNotFound when there is none.
	GetFloatingIP(ctx context.Context, userID string) (*FloatingIP, error)
	// ListFloatingIPs lists every floating IP held, oldest first.
	ListFloatingIPs(ctx context.Context, p core.Page) ([]*FloatingIP, int, error)
	// UpdateFloatingIP gives the user's floating IP a new id and address;
	// KindNotFound when the user has none, KindConflict when either is taken.
	UpdateFloatingIP(ctx context.Context, userID, id, address string) (*FloatingIP, error)
	// DeleteFloatingIP releases the user's floating IP; KindNotFound when none.
	DeleteFloatingIP(ctx context.Context, userID string) error
}

// --- sessions ---

// CheckConnType allows the connection types of a session, or none.
func CheckConnType(c string) error {
	switch c {
	case "", ConnWeb, ConnSSH, ConnClient:
		return nil
	}
	return core.Invalid("conn_type", "conn_type must be %q, %q or %q", ConnWeb, ConnSSH, ConnClient)
}

// RecordSession records that the acting user connected to a machine. A session the
// user still had open on that machine is closed: a new connection replaces it.
func (s *Service) RecordSession(ctx context.Context, in SessionInput) (*Session, error) {
	if err := s.checkRecord(ctx, &in); err != nil {
		return nil, err
	}
	if !core.ValidID(in.InstanceID) {
		return nil, core.Invalid("instance_id", "unknown instance %q", in.InstanceID)
	}
	// Read before the transaction, to hold the writer for the writes only.
	inst, err := s.store.GetInstance(ctx, in.InstanceID)
	if core.ErrorKind(err) == core.KindNotFound {
		return nil, core.Invalid("instance_id", "unknown instance %q", in.InstanceID)
	} else if err != nil {
		return nil, err
	}
	return s.record(ctx, inst, in)
}

// RecordSessionOn is RecordSession on inst, the machine of in.InstanceID, which
// the caller has just read (the hand-out that gives it), so that it is not
// read again.
func (s *Service) RecordSessionOn(ctx context.Context, inst *core.Instance, in SessionInput) (*Session, error) {
	in.InstanceID = inst.ID
	if err := s.checkRecord(ctx, &in); err != nil {
		return nil, err
	}
	return s.record(ctx, inst, in)
}

// checkRecord asks the policy and checks in, trimmed in place.
func (s *Service) checkRecord(ctx context.Context, in *SessionInput) error {
	if err := s.Check(ctx, core.ActionSessionRecord, core.Resource{Type: core.ResourceSession}); err != nil {
		return err
	}
	in.ConnType = strings.TrimSpace(in.ConnType)
	in.ClientIP = strings.TrimSpace(in.ClientIP)
	if err := CheckConnType(in.ConnType); err != nil {
		return err
	}
	if in.InstanceID == "" {
		return core.Invalid("instance_id", "instance_id is required")
	}
	if in.ClientIP != "" {
		if _, err := netip.ParseAddr(in.ClientIP); err != nil {
			return core.Invalid("client_ip", "client_ip %q is not an IP address", in.ClientIP)
		}
	}
	if err := core.CheckText("client_os", in.ClientOS, core.MaxNameLen); err != nil {
		return err
	}
	if err := core.CheckText("client_info", in.ClientInfo, core.MaxTextLen); err != nil {
		return err
	}
	if core.ActorFrom(ctx).UserID == "" {
		return core.Errorf(core.KindUnauthenticated, "a session needs a user")
	}
	return nil
}

// record writes the acting user's session on inst, closing the one still open.
// The user is the actor's: its login read it a moment ago.
func (s *Service) record(ctx context.Context, inst *core.Instance, in SessionInput) (*Session, error) {
	a := core.ActorFrom(ctx)
	now := s.Now().UTC()
	var sess *Session
	err := core.InTx(ctx, s.store, func(q Queries) error {
		if _, err := q.CloseOpenSessions(ctx, a.UserID, inst.ID, now); err != nil {
			return err
		}
		sess = &Session{
			ID: core.NewID(), UserID: a.UserID, UserName: a.Name, InstanceID: inst.ID, InstanceName: inst.Name,
			ProjectID: inst.ProjectID, ConnType: in.ConnType, ClientIP: in.ClientIP, ClientOS: in.ClientOS,
			ClientInfo: in.ClientInfo, CreatedAt: now,
		}
		if err := q.CreateSession(ctx, sess); err != nil {
			return err
		}
		return s.Audit(ctx, q, "session.record", "session", sess.ID, sess)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// CloseSession records that a session ended.
func (s *Service) CloseSession(ctx context.Context, id string) (*Session, error) {
	if err := s.Check(ctx, core.ActionSessionClose, core.On(core.ResourceSession, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("session", id)
	}
	var sess *Session
	err := core.InTx(ctx, s.store, func(q Queries) error {
		var err error
		if sess, err = q.CloseSession(ctx, id, s.Now().UTC()); err != nil {
			return err
		}
		return s.Audit(ctx, q, "session.close", "session", id, nil)
	})
	return sess, err
}

func checkSessionFilter(f SessionFilter) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.ConnType != nil {
		switch *f.ConnType {
		case ConnWeb, ConnSSH, ConnClient:
		default:
			return core.Invalid("connection_type", "connection_type must be %q, %q or %q", ConnWeb, ConnSSH, ConnClient)
		}
	}
	for field, c := range map[string]*core.Cond{"user_id": f.UserID, "user_name": f.UserName, "instance_id": f.InstanceID} {
		if err := core.CheckEqualityCond(field, c); err != nil {
			return err
		}
	}
	return nil
}

// ListSessions lists sessions, newest first.
func (s *Service) ListSessions(ctx context.Context, f SessionFilter) ([]*Session, int, error) {
	if err := s.Check(ctx, core.ActionSessionView, core.Resource{Type: core.ResourceSession}); err != nil {
		return nil, 0, err
	}
	if err := checkSessionFilter(f); err != nil {
		return nil, 0, err
	}
	return s.store.ListSessions(ctx, f)
}

// CountSessions counts the sessions ListSessions would list (pages aside).
func (s *Service) CountSessions(ctx context.Context, f SessionFilter) (int, error) {
	if err := s.Check(ctx, core.ActionSessionView, core.Resource{Type: core.ResourceSession}); err != nil {
		return 0, err
	}
	if err := checkSessionFilter(f); err != nil {
		return 0, err
	}
	return s.store.CountSessions(ctx, f)
}

// --- floating IPs ---

// floatingPool parses the configured pool.
func (s *Service) floatingPool() (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s.cfg.FloatingIPPool)
	if err != nil {
		return netip.Prefix{}, core.Wrap(core.KindUnavailable, err, "the floating IP pool %q is not a CIDR", s.cfg.FloatingIPPool)
	}
	return p.Masked(), nil
}

// usable reports whether addr may be handed out from pool: inside it, and for an
// IPv4 pool of four or more addresses, neither its network nor broadcast address.
func usable(pool netip.Prefix, addr netip.Addr) bool {
	if !pool.Contains(addr) {
		return false
	}
	if addr.Is4() && pool.Bits() <= 30 {
		if addr == pool.Addr() {
			return false
		}
		last := pool.Addr().As4()
		host := 32 - pool.Bits()
		for i := 3; i >= 0 && host > 0; i-- {
			n := min(host, 8)
			last[i] |= byte(1<<n - 1)
			host -= n
		}
		if addr == netip.AddrFrom4(last) {
			return false
		}
	}
	return true
}

// lowestFree is the lowest usable address of pool not in used (nor skip).
func lowestFree(pool netip.Prefix, used map[netip.Addr]bool, skip netip.Addr) (netip.Addr, bool) {
	for a := pool.Addr(); pool.Contains(a); a = a.Next() {
		if usable(pool, a) && !used[a] && a != skip {
			return a, true
		}
		if !a.Next().IsValid() {
			break
		}
	}
	return netip.Addr{}, false
}

// pickFloatingIP resolves req to the id and address to give; current is the
// address the user holds now (skipped when choosing), auto reports whether the
// address was chosen here (and may be retried on a conflict).
func (s *Service) pickFloatingIP(ctx context.Context, q Queries, req FloatingIPRequest, current netip.Addr) (id string, addr netip.Addr, auto bool, err error) {
	pool, err := s.floatingPool()
	if err != nil {
		return "", netip.Addr{}, false, err
	}
	ref := strings.TrimSpace(req.Ref)
	if a, perr := netip.ParseAddr(ref); perr == nil {
		if !usable(pool, a) {
			return "", netip.Addr{}, false, core.Invalid("floating_ip_id", "%s is not an address of the floating IP pool %s", a, pool)
		}
		return core.NewID(), a, false, nil
	}
	switch {
	case ref == "":
		id = core.NewID()
	case core.ValidID(ref):
		id = strings.ToLower(ref)
	default:
		return "", netip.Addr{}, false, core.Invalid("floating_ip_id", "floating_ip_id must be a UUID or an address of the pool %s", pool)
	}
	held, _, err := q.ListFloatingIPs(ctx, core.Page{})
	if err != nil {
		return "", netip.Addr{}, false, err
	}
	used := make(map[netip.Addr]bool, len(held))
	for _, h := range held {
		if a, err := netip.ParseAddr(h.Address); err == nil {
			used[a] = true
		}
	}
	a, ok := lowestFree(pool, used, current)
	if !ok {
		return "", netip.Addr{}, false, core.Errorf(core.KindConflict, "no free address left in the floating IP pool %s", pool)
	}
	return id, a, true, nil
}

// retryAuto runs fn again when it lost a race for an address it chose itself.
func retryAuto(fn func() (auto bool, err error)) error {
	for i := 0; ; i++ {
		auto, err := fn()
		if err == nil || !auto || core.ErrorKind(err) != core.KindConflict || i == 4 {
			return err
		}
	}
}

func (s *Service) checkUser(ctx context.Context, q Queries, userID string) error {
	if !core.ValidID(userID) {
		return core.NotFound("user", userID)
	}
	_, err := q.GetUser(ctx, userID)
	return err
}

// AllocateFloatingIP gives a user a floating IP from the configured pool; a user
// holds at most one (KindConflict otherwise).
func (s *Service) AllocateFloatingIP(ctx context.Context, userID string, req FloatingIPRequest) (*FloatingIP, error) {
	if err := s.Check(ctx, core.ActionFloatingIPManage, core.FloatingIPResource(userID)); err != nil {
		return nil, err
	}
	var ip *FloatingIP
	err := retryAuto(func() (bool, error) {
		var auto bool
		err := core.InTx(ctx, s.store, func(q Queries) error {
			if err := s.checkUser(ctx, q, userID); err != nil {
				return err
			}
			if _, err := q.GetFloatingIP(ctx, userID); err == nil {
				return core.Errorf(core.KindConflict, "user %s already has a floating IP; change it with PUT", userID)
			} else if core.ErrorKind(err) != core.KindNotFound {
				return err
			}
			id, addr, a, err := s.pickFloatingIP(ctx, q, req, netip.Addr{})
			auto = a
			if err != nil {
				return err
			}
			ip = &FloatingIP{ID: id, UserID: userID, Address: addr.String()}
			if err := q.CreateFloatingIP(ctx, ip); err != nil {
				return err
			}
			return s.Audit(ctx, q, "floating_ip.allocate", "user", userID, ip)
		})
		return auto, err
	})
	if err != nil {
		return nil, err
	}
	return ip, nil
}

// ChangeFloatingIP changes the user's floating IP: to the id or address req names,
// or to the lowest free address other than the current one.
func (s *Service) ChangeFloatingIP(ctx context.Context, userID string, req FloatingIPRequest) (*FloatingIP, error) {
	if err := s.Check(ctx, core.ActionFloatingIPManage, core.FloatingIPResource(userID)); err != nil {
		return nil, err
	}
	var ip *FloatingIP
	err := retryAuto(func() (bool, error) {
		var auto bool
		err := core.InTx(ctx, s.store, func(q Queries) error {
			if err := s.checkUser(ctx, q, userID); err != nil {
				return err
			}
			cur, err := q.GetFloatingIP(ctx, userID)
			if core.ErrorKind(err) == core.KindNotFound {
				return core.Errorf(core.KindNotFound, "user %s has no floating IP; allocate one with POST", userID)
			} else if err != nil {
				return err
			}
			curAddr, _ := netip.ParseAddr(cur.Address)
			id, addr := cur.ID, curAddr
			if ref := strings.TrimSpace(req.Ref); core.ValidID(ref) {
				id = strings.ToLower(ref) // a new id only: the address stays
			} else {
				_, a, chosen, err := s.pickFloatingIP(ctx, q, req, curAddr)
				if err != nil {
					return err
				}
				addr, auto = a, chosen
			}
			if ip, err = q.UpdateFloatingIP(ctx, userID, id, addr.String()); err != nil {
				return err
			}
			return s.Audit(ctx, q, "floating_ip.change", "user", userID, map[string]any{"from": cur, "to": ip})
		})
		return auto, err
	})
	if err != nil {
		return nil, err
	}
	return ip, nil
}

// ReleaseFloatingIP takes the user's floating IP back to the pool.
func (s *Service) ReleaseFloatingIP(ctx context.Context, userID string) error {
	if err := s.Check(ctx, core.ActionFloatingIPManage, core.FloatingIPResource(userID)); err != nil {
		return err
	}
	return core.InTx(ctx, s.store, func(q Queries) error {
		if err := s.checkUser(ctx, q, userID); err != nil {
			return err
		}
		cur, err := q.GetFloatingIP(ctx, userID)
		if err != nil {
			return err
		}
		if err := q.DeleteFloatingIP(ctx, userID); err != nil {
			return err
		}
		return s.Audit(ctx, q, "floating_ip.release", "user", userID, cur)
	})
}

// ListFloatingIPs lists the floating IPs held, oldest first.
func (s *Service) ListFloatingIPs(ctx context.Context, p core.Page) ([]*FloatingIP, int, error) {
	if err := s.Check(ctx, core.ActionFloatingIPView, core.Resource{Type: core.ResourceFloatingIP}); err != nil {
		return nil, 0, err
	}
	return s.store.ListFloatingIPs(ctx, p)
}

// UserFloatingIP returns a user and the floating IP it holds (nil when none).
func (s *Service) UserFloatingIP(ctx context.Context, userID string) (*core.User, *FloatingIP, error) {
	if err := s.Check(ctx, core.ActionFloatingIPView, core.FloatingIPResource(userID)); err != nil {
		return nil, nil, err
	}
	if !core.ValidID(userID) {
		return nil, nil, core.NotFound("user", userID)
	}
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	ip, err := s.store.GetFloatingIP(ctx, userID)
	if core.ErrorKind(err) == core.KindNotFound {
		return u, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return u, ip, nil
}

func (f SessionFilter) check() error {
	return core.CheckFilter(core.FilterCond("user_id", f.UserID), core.FilterCond("user_name", f.UserName), core.FilterCond("instance_id", f.InstanceID),
		core.FilterValue("instance_name", f.InstanceName), core.FilterValue("project_id", f.ProjectID), core.FilterValue("connection_type", f.ConnType))
}
