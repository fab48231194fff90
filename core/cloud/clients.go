package cloud

import (
	"context"
	"hostdeck/core"
	"hostdeck/core/instance"
	"hostdeck/core/login"
	"maps"
	"net/mail"
	"strings"
	"time"
)

// ClientInput is what a caller may set on a client; nil fields are not given.
// ExpireDate: a non-nil pointer to nil clears the date.
type ClientInput struct {
	Name       *string
	Email      *string
	Phone      *string
	Lang       *string
	ServerID   *string
	ExpireDate **time.Time
}

func checkClientInput(in ClientInput, create bool) error {
	if create && (in.Name == nil || strings.TrimSpace(*in.Name) == "") {
		return core.Invalid("name", "name is required")
	}
	if create && (in.Email == nil || *in.Email == "") {
		return core.Invalid("email", "email is required")
	}
	if in.Name != nil {
		if err := core.CheckName("name", strings.TrimSpace(*in.Name), core.MaxNameLen); err != nil {
			return err
		}
	}
	if in.Email != nil {
		if err := core.CheckName("email", *in.Email, core.MaxEmailLen); err != nil {
			return err
		}
		a, err := mail.ParseAddress(*in.Email)
		if err != nil || a.Address != *in.Email {
			return core.Invalid("email", "email %q is not an e-mail address", *in.Email)
		}
	}
	if in.Phone != nil {
		if err := core.CheckLine("phone", *in.Phone, 50); err != nil {
			return err
		}
	}
	if in.Lang != nil && *in.Lang != "ru" && *in.Lang != "en" {
		return core.Invalid("lang", `lang must be "ru" or "en"`)
	}
	if in.ServerID != nil && !core.ValidID(*in.ServerID) {
		return core.Invalid("server_id", "server %q not found", *in.ServerID)
	}
	return nil
}

// dateOnly truncates t to its UTC date.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ClientView is a client as listed: its record, its instance and whether its cloud
// answers (the instance is active and passed its last health check).
type ClientView struct {
	*core.Client
	Instance  *core.Instance
	Available bool
}

func viewOf(c *core.Client, in *core.Instance) *ClientView {
	return &ClientView{Client: c, Instance: in, Available: in != nil && in.State == core.StateActive && c.Status == core.ClientActive}
}

// GetClient returns one client.
func (s *Service) GetClient(ctx context.Context, id string) (*ClientView, error) {
	if err := s.Check(ctx, core.ActionClientView, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("client", id)
	}
	c, err := s.store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	var in *core.Instance
	if c.InstanceID != "" {
		if in, err = s.store.GetInstance(ctx, c.InstanceID); err != nil && core.ErrorKind(err) != core.KindNotFound {
			return nil, err
		}
	}
	return viewOf(c, in), nil
}

// ClientRow is a client and its instance (nil when it has none), as a page of
// clients is read: in one query.
type ClientRow struct {
	*core.Client
	Instance *core.Instance
}

// ClientList is a page of clients as listed, with the total and the stamp of
// the data (core.List).
type ClientList = core.List[*ClientView]

// ListClients lists clients with their availability. A Status that no client
// can have is KindInvalid naming the statuses. With f.Page.Since the stamp of
// an answer the caller keeps, an unchanged list is ClientList.Unchanged.
func (s *Service) ListClients(ctx context.Context, f core.ClientFilter) (ClientList, error) {
	if err := s.Check(ctx, core.ActionClientView, core.Resource{Type: core.ResourceClient}); err != nil {
		return ClientList{}, err
	}
	if err := f.Check(); err != nil {
		return ClientList{}, err
	}
	rows, err := s.store.ListClients(ctx, f)
	if err != nil {
		return ClientList{}, err
	}
	out := ClientList{Total: rows.Total, Stamp: rows.Stamp, Unchanged: rows.Unchanged}
	if !rows.Unchanged {
		out.Items = make([]*ClientView, len(rows.Items))
		for i, r := range rows.Items {
			out.Items[i] = viewOf(r.Client, r.Instance)
		}
	}
	return out, nil
}

// instanceFor builds the instance record of a client's cloud on srv from the template.
func (s *Service) instanceFor(c *core.Client, srv *core.Server) *core.Instance {
	t := s.Cfg.Template
	in := &core.Instance{ID: core.NewID(), ServerID: srv.ID, State: core.StateBuilding}
	in.Name = "hd-" + strings.ReplaceAll(in.ID, "-", "")
	env := maps.Clone(t.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["CLIENT_ID"] = c.ID
	env["CLIENT_NAME"] = c.Name
	vols := make([]core.Volume, len(t.Volumes))
	for i, v := range t.Volumes {
		vols[i] = core.Volume{Name: in.Name + "-" + v.Name, Path: v.Path}
	}
	in.Spec = core.InstanceSpec{
		Name: in.Name, Image: t.Image, Cmd: t.Cmd, Env: env, Ports: t.Ports, Volumes: vols,
		Labels:     map[string]string{core.LabelInstance: in.ID, "hostdeck.client": c.ID},
		HealthPath: t.HealthPath,
		Stdin:      t.OwnerPasswordStdin,
	}
	return in
}

// CreateClient records a client, places it on a server and starts the task that
// builds its cloud: create and start the instance, wait until it is healthy, set the
// owner password, e-mail the owner. Placement is decided now, so a full fleet is an
// error at once rather than a failed task.
func (s *Service) CreateClient(ctx context.Context, in ClientInput) (*core.Client, *core.Task, error) {
	if err := s.Check(ctx, core.ActionClientCreate, core.Resource{Type: core.ResourceClient}); err != nil {
		return nil, nil, err
	}
	if err := checkClientInput(in, true); err != nil {
		return nil, nil, err
	}
	// The owner password is chosen now and stored with the client, so that the
	// create task has it from its start and writes no record of its own for it.
	sealed := s.Sealer.Seal([]byte(s.NewPassword()))
	c := &core.Client{
		ID: core.NewID(), Name: strings.TrimSpace(*in.Name), Email: *in.Email, Lang: "ru",
		Status: core.ClientCreating, OwnerLogin: s.Cfg.Template.OwnerLogin, OwnerPasswordEnc: sealed,
	}
	if in.Phone != nil {
		c.Phone = *in.Phone
	}
	if in.Lang != nil {
		c.Lang = *in.Lang
	}
	if in.ExpireDate != nil && *in.ExpireDate != nil {
		d := dateOnly(**in.ExpireDate)
		c.ExpireDate = &d
	}
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		if err := q.LockServers(ctx); err != nil {
			return err
		}
		srv, err := core.Place(ctx, q, in.ServerID)
		if err != nil {
			return err
		}
		inst := s.instanceFor(c, srv)
		c.ServerID, c.InstanceID = srv.ID, inst.ID
		if err := q.CreateInstance(ctx, inst); err != nil {
			return err
		}
		if err := q.CreateClient(ctx, c); err != nil {
			return err
		}
		if c.ExpireDate != nil {
			a := core.ActorFrom(ctx)
			if err := q.AddExpireChange(ctx, &core.ExpireChange{ClientID: c.ID, New: c.ExpireDate, Actor: a.Name, Source: a.Source, At: s.Now().UTC()}); err != nil {
				return err
			}
		}
		if t, err = s.Enqueue(ctx, q, KindClientCreate, "client", c.ID, clientPayload{ClientID: c.ID}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "client.create", "client", c.ID, map[string]any{
			"name": c.Name, "email": c.Email, "server_id": srv.ID, "task_id": t.ID,
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return c, t, nil
}

// UpdateClient edits a client's contacts and expiry date (not the owner password;
// not the server: that is a transfer).
func (s *Service) UpdateClient(ctx context.Context, id string, in ClientInput) (*core.Client, error) {
	if err := s.Check(ctx, core.ActionClientEdit, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(id) {
		return nil, core.NotFound("client", id)
	}
	if in.ServerID != nil {
		return nil, core.Invalid("server_id", "server_id cannot be changed; transfer the client instead")
	}
	if err := checkClientInput(in, false); err != nil {
		return nil, err
	}
	var c *core.Client
	err := core.InTx(ctx, s.store, func(q Queries) error {
		old, err := q.GetClient(ctx, id)
		if err != nil {
			return err
		}
		if old.Status == core.ClientDeleted || old.Status == core.ClientDeleting {
			return core.Errorf(core.KindConflict, "client is %s", old.Status)
		}
		u := core.ClientUpdate{Email: in.Email, Phone: in.Phone, Lang: in.Lang}
		if in.Name != nil {
			u.Name = core.Ptr(strings.TrimSpace(*in.Name))
		}
		if in.ExpireDate != nil {
			if err := s.recordExpire(ctx, q, old, *in.ExpireDate, &u); err != nil {
				return err
			}
		}
		if c, err = q.UpdateClient(ctx, id, u); err != nil {
			return err
		}
		return s.Audit(ctx, q, "client.update", "client", id, c)
	})
	return c, err
}

// recordExpire adds the change of old's expiry date to the history and to u.
func (s *Service) recordExpire(ctx context.Context, q Queries, old *core.Client, date *time.Time, u *core.ClientUpdate) error {
	var d *time.Time
	if date != nil {
		d = core.Ptr(dateOnly(*date))
	}
	if (d == nil && old.ExpireDate == nil) || (d != nil && old.ExpireDate != nil && d.Equal(*old.ExpireDate)) {
		return nil
	}
	u.ExpireDate = &d
	a := core.ActorFrom(ctx)
	return q.AddExpireChange(ctx, &core.ExpireChange{
		ClientID: old.ID, Old: old.ExpireDate, New: d, Actor: a.Name, Source: a.Source, At: s.Now().UTC(),
	})
}

// SetExpireDate changes a client's expiry date; every change is kept.
func (s *Service) SetExpireDate(ctx context.Context, id string, date *time.Time) (*core.Client, error) {
	return s.UpdateClient(ctx, id, ClientInput{ExpireDate: &date})
}

// ExpireHistory lists a client's expiry date changes, oldest first.
func (s *Service) ExpireHistory(ctx context.Context, id string, p core.Page) ([]*core.ExpireChange, int, error) {
	if err := s.Check(ctx, core.ActionClientView, core.On(core.ResourceClient, id)); err != nil {
		return nil, 0, err
	}
	if !core.ValidID(id) {
		return nil, 0, core.NotFound("client", id)
	}
	if _, err := s.store.GetClient(ctx, id); err != nil {
		return nil, 0, err
	}
	return s.store.ListExpireChanges(ctx, id, p)
}

// clientAction starts a task on a live client, audited as action.
func (s *Service) clientAction(ctx context.Context, id, kind, action string, payload any, prepare func(q Queries, c *core.Client) error) (*core.Task, error) {
	if !core.ValidID(id) {
		return nil, core.NotFound("client", id)
	}
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		c, err := q.GetClient(ctx, id)
		if err != nil {
			return err
		}
		if c.Status == core.ClientDeleted || c.Status == core.ClientDeleting {
			return core.Errorf(core.KindConflict, "client is %s", c.Status)
		}
		if prepare != nil {
			if err := prepare(q, c); err != nil {
				return err
			}
		}
		if t, err = s.Enqueue(ctx, q, kind, "client", id, payload); err != nil {
			return err
		}
		return s.Audit(ctx, q, action, "client", id, map[string]string{"task_id": t.ID})
	})
	return t, err
}

// SetOwnerPassword sets a new password for the lab owner's account in the client's
// cloud. The password is sealed in the record (so send_success can e-mail it again)
// and reaches the instance's hook on stdin.
func (s *Service) SetOwnerPassword(ctx context.Context, id, password string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientEdit, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	if err := login.CheckPassword(password); err != nil {
		return nil, err
	}
	return s.clientAction(ctx, id, KindClientOwnerPassword, "client.owner_password", clientPayload{ClientID: id},
		func(q Queries, c *core.Client) error {
			sealed := s.Sealer.Seal([]byte(password))
			_, err := q.UpdateClient(ctx, c.ID, core.ClientUpdate{OwnerPasswordEnc: &sealed})
			return err
		})
}

// SetDemo loads (on) or removes (off) the demo data in the client's cloud.
func (s *Service) SetDemo(ctx context.Context, id string, on bool) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientEdit, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	action := "client.demo_disable"
	if on {
		action = "client.demo_enable"
	}
	return s.clientAction(ctx, id, KindClientDemo, action, demoPayload{ClientID: id, On: on}, nil)
}

// SendSuccess e-mails the owner the cloud's URL, login and password.
func (s *Service) SendSuccess(ctx context.Context, id string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientNotify, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	return s.clientAction(ctx, id, KindClientSendSuccess, "client.send_success", clientPayload{ClientID: id}, nil)
}

// SendExpire e-mails the owner that the cloud expires soon.
func (s *Service) SendExpire(ctx context.Context, id string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientNotify, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	return s.clientAction(ctx, id, KindClientSendExpire, "client.send_expire", clientPayload{ClientID: id},
		func(q Queries, c *core.Client) error {
			if c.ExpireDate == nil {
				return core.Errorf(core.KindConflict, "client has no expiry date")
			}
			return nil
		})
}

// RebootClient restarts the client's instance, as the lifecycle allows (not in
// rescue, not while it is being built).
func (s *Service) RebootClient(ctx context.Context, id string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientReboot, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	return s.clientAction(ctx, id, KindClientReboot, "client.reboot", clientPayload{ClientID: id},
		func(q Queries, c *core.Client) error {
			_, err := lockClientInstance(ctx, q, c, instance.ActionReboot)
			return err
		})
}

// DeleteClient removes the client's instance with its data (and its rescue
// system, if it is in rescue) from its server, as a task. The delete supersedes
// the client's pending work: in the same transaction its tasks not yet run are
// revoked and a running one is asked to stop. A client being transferred is
// KindConflict: its data is on its way to another server.
func (s *Service) DeleteClient(ctx context.Context, id string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientDelete, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	return s.clientAction(ctx, id, KindClientDelete, "client.delete", clientPayload{ClientID: id},
		func(q Queries, c *core.Client) error {
			if c.Status == core.ClientTransferring {
				return core.Errorf(core.KindConflict, "client %s is being transferred to another server; delete it once the transfer has ended", c.Name)
			}
			if _, err := lockClientInstance(ctx, q, c, instance.ActionDelete); err != nil {
				return err
			}
			if err := s.supersede(ctx, q, "client.delete", "client", c.ID, "instance", c.InstanceID); err != nil {
				return err
			}
			_, err := q.UpdateClient(ctx, c.ID, core.ClientUpdate{Status: core.Ptr(core.ClientDeleting)})
			return err
		})
}

// lockClientInstance locks client c's instance in q for action a: the
// lifecycle's refusal when its state does not allow a.
func lockClientInstance(ctx context.Context, q Queries, c *core.Client, a instance.InstanceAction) (*core.Instance, error) {
	in, err := q.LockMachine(ctx, c.InstanceID)
	if err != nil {
		return nil, err
	}
	if _, err := instance.Lifecycle(in, a); err != nil {
		return nil, err
	}
	return in, nil
}

// supersede stops, in q's transaction, the work still to do on the targets
// (type, id pairs) because action makes it moot: PENDING and RETRY tasks are
// revoked at once, a STARTED one is asked to stop (its worker cancels it at its
// next lease renewal). Each is audited as task.cancel.
func (s *Service) supersede(ctx context.Context, q Queries, action string, targets ...string) error {
	now := s.Now().UTC()
	for i := 0; i+1 < len(targets); i += 2 {
		for _, st := range []core.TaskStatus{core.TaskPending, core.TaskRetry, core.TaskStarted} {
			ts, _, err := q.ListTasks(ctx, core.TaskFilter{TargetType: &targets[i], TargetID: &targets[i+1], Status: &st})
			if err != nil {
				return err
			}
			for _, t := range ts {
				if _, err := q.RequestTaskCancel(ctx, t.ID, now); err != nil {
					return err
				}
				if err := s.Audit(ctx, q, "task.cancel", "task", t.ID, map[string]string{"superseded_by": action}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// TransferClient moves a client with its data to another server, as a task.
func (s *Service) TransferClient(ctx context.Context, id, serverID string) (*core.Task, error) {
	if err := s.Check(ctx, core.ActionClientTransfer, core.On(core.ResourceClient, id)); err != nil {
		return nil, err
	}
	if !core.ValidID(serverID) {
		return nil, core.Invalid("server_id", "server %q not found", serverID)
	}
	p := transferPayload{ClientID: id}
	return s.clientAction(ctx, id, KindClientTransfer, "client.transfer", &p,
		func(q Queries, c *core.Client) error {
			if c.Status != core.ClientActive {
				return core.Errorf(core.KindConflict, "client is %s; only an active client can be transferred", c.Status)
			}
			if c.ServerID == serverID {
				return core.Invalid("server_id", "client is already on server %s", serverID)
			}
			if _, err := lockClientInstance(ctx, q, c, instance.ActionTransfer); err != nil {
				return err
			}
			if err := q.LockServers(ctx); err != nil {
				return err
			}
			dst, err := core.Place(ctx, q, &serverID)
			if err != nil {
				return err
			}
			src, err := q.GetServer(ctx, c.ServerID)
			if err != nil {
				return err
			}
			if src.Runtime != dst.Runtime {
				return core.Invalid("server_id", "cannot transfer from a %s server to a %s server", src.Runtime, dst.Runtime)
			}
			inst := s.instanceFor(c, dst)
			if err := q.CreateInstance(ctx, inst); err != nil {
				return err
			}
			p.FromInstanceID, p.ToInstanceID = c.InstanceID, inst.ID
			_, err = q.UpdateClient(ctx, c.ID, core.ClientUpdate{Status: core.Ptr(core.ClientTransferring)})
			return err
		})
}

type clientPayload struct {
	ClientID string `json:"client_id"`
}

type demoPayload struct {
	ClientID string `json:"client_id"`
	On       bool   `json:"on"`
}

type transferPayload struct {
	ClientID       string `json:"client_id"`
	FromInstanceID string `json:"from_instance_id"`
	ToInstanceID   string `json:"to_instance_id"`
}
