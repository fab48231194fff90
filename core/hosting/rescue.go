package hosting

import (
	"context"
	"fmt"
	"hostdeck/core"
	"hostdeck/core/instance"
	"time"
	"unicode"
)

// This file holds rescue mode: an active instance stops and a rescue system boots
// from a catalogue image with the instance's volumes mounted (core.Rescuer does it
// on the runtime); unrescue removes the rescue system and starts the instance
// again. Both are checked at once and then run as durable tasks.

// Task kinds of rescue mode.
const (
	KindInstanceRescue   = "instance.rescue"
	KindInstanceUnrescue = "instance.unrescue"
)

// maxRescuePassword bounds the rescue password's length.
const maxRescuePassword = 128

type rescuePayload struct {
	InstanceID string `json:"instance_id"`
	ImageID    string `json:"image_id"`
	ImageRef   string `json:"image_ref"`
	// PasswordEnc is the rescue password sealed by the Sealer: the task table
	// never holds it in the clear.
	PasswordEnc []byte `json:"password_enc,omitempty"`
}

// checkRescuePassword refuses passwords that are too long or hold control
// characters (they could not be typed at a console).
func checkRescuePassword(pw string) error {
	if len(pw) > maxRescuePassword {
		return core.Invalid("password", "password is longer than %d characters", maxRescuePassword)
	}
	for _, r := range pw {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return core.Invalid("password", "password holds a control character or invalid UTF-8")
		}
	}
	return nil
}

// rescuer returns the runtime of the instance's server as a Rescuer, or
// KindConflict when that runtime cannot rescue.
func (s *Service) rescuer(ctx context.Context, q Queries, in *core.Instance) (core.Rescuer, error) {
	srv, err := q.GetServer(ctx, in.ServerID)
	if err != nil {
		return nil, err
	}
	rt, err := s.RuntimeFor(srv)
	if err != nil {
		return nil, err
	}
	r, ok := rt.(core.Rescuer)
	if !ok {
		return nil, core.Errorf(core.KindConflict, "the %s runtime of server %s has no rescue mode", srv.Runtime, srv.Name)
	}
	return r, nil
}

// Rescue puts an active instance into rescue from image imageID, with password
// (optional) as the rescue system's password, as a task. The instance shows state
// rescue at once. A state other than active is KindConflict naming the state; an
// instance or image the actor does not see is KindNotFound (for the image, with
// field image_id).
func (s *Service) Rescue(ctx context.Context, instanceID, imageID, password string) (*core.Task, error) {
	if !core.ValidID(instanceID) {
		return nil, core.NotFound("instance", instanceID)
	}
	if !core.ValidID(imageID) {
		return nil, &core.Error{Kind: core.KindNotFound, Field: "image_id", Message: fmt.Sprintf("image %q not found", imageID)}
	}
	if err := checkRescuePassword(password); err != nil {
		return nil, err
	}
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		in, next, err := lockInstance(ctx, q, instanceID, instance.ActionRescue)
		if err != nil {
			return err
		}
		im, err := q.GetImage(ctx, imageID)
		if err != nil && core.ErrorKind(err) != core.KindNotFound {
			return err
		}
		visible := false
		if err == nil {
			if visible, err = core.Allowed(ctx, q, core.ActionImageView, core.ImageResource(im)); err != nil {
				return err
			}
		}
		if !visible {
			return &core.Error{Kind: core.KindNotFound, Field: "image_id", Message: fmt.Sprintf("image %q not found", imageID)}
		}
		if in.RuntimeRef == "" {
			return core.Errorf(core.KindConflict, "instance %s has not been created on its server yet", in.Name)
		}
		if _, err := s.rescuer(ctx, q, in); err != nil {
			return err
		}
		ref := im.Ref
		if ref == "" {
			ref = s.Cfg.RescueImage
		}
		if ref == "" {
			return core.Errorf(core.KindConflict, "image %s has no runtime image and no rescue image is configured", im.Name)
		}
		p := rescuePayload{InstanceID: in.ID, ImageID: im.ID, ImageRef: ref}
		if password != "" {
			p.PasswordEnc = s.Sealer.Seal([]byte(password))
		}
		if _, err := q.UpdateInstance(ctx, in.ID, core.InstanceUpdate{State: &next}); err != nil {
			return err
		}
		if t, err = s.Enqueue(ctx, q, KindInstanceRescue, "instance", in.ID, p); err != nil {
			return err
		}
		return s.Audit(ctx, q, "instance.rescue", "instance", in.ID, map[string]any{
			"image_id": im.ID, "image": im.Name, "password_set": password != "", "task_id": t.ID,
		})
	})
	return t, err
}

// Unrescue brings an instance in rescue back, as a task: the rescue system goes
// and the instance starts again (state building until it is active). A state
// other than rescue is KindConflict naming the state.
func (s *Service) Unrescue(ctx context.Context, instanceID string) (*core.Task, error) {
	var t *core.Task
	err := s.change(ctx, func(q Queries) error {
		in, next, err := lockInstance(ctx, q, instanceID, instance.ActionUnrescue)
		if err != nil {
			return err
		}
		if _, err := s.rescuer(ctx, q, in); err != nil {
			return err
		}
		// Building: the instance is on its way back; reconciliation leaves it alone.
		if _, err := q.UpdateInstance(ctx, in.ID, core.InstanceUpdate{State: &next}); err != nil {
			return err
		}
		if t, err = s.Enqueue(ctx, q, KindInstanceUnrescue, "instance", in.ID, instancePayload{InstanceID: in.ID}); err != nil {
			return err
		}
		return s.Audit(ctx, q, "instance.unrescue", "instance", in.ID, map[string]string{"task_id": t.ID})
	})
	return t, err
}

func (s *Service) runInstanceRescue(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[rescuePayload](t)
	if err != nil {
		return nil, err
	}
	res, err := s.rescue(ctx, p, progress)
	if err != nil && core.LastAttempt(t, err) {
		s.inst.FailInstance(ctx, p.InstanceID, "instance.rescue_failed", err)
	}
	return res, err
}

func (s *Service) rescue(ctx context.Context, p rescuePayload, progress func(int, string)) (any, error) {
	in, srv, rt, err := s.inst.LoadInstance(ctx, p.InstanceID)
	if err != nil {
		return nil, err
	}
	if in, _, err = s.inst.BeginInstance(ctx, in.ID, instance.ActionRescue); err != nil {
		return nil, err
	}
	r, ok := rt.(core.Rescuer)
	if !ok {
		return nil, core.Errorf(core.KindConflict, "the %s runtime has no rescue mode", srv.Runtime)
	}
	var pw []byte
	if len(p.PasswordEnc) > 0 {
		if pw, err = s.Sealer.Open(p.PasswordEnc); err != nil {
			return nil, core.Permanent(fmt.Errorf("open rescue password: %w", err))
		}
	}
	progress(20, "booting rescue system from "+p.ImageRef)
	if err := r.Rescue(ctx, srv, in.RuntimeRef, p.ImageRef, string(pw)); err != nil {
		return nil, fmt.Errorf("rescue instance %s: %w", in.Name, err)
	}
	return map[string]string{"instance_id": in.ID, "image_id": p.ImageID, "state": string(core.StateRescue)}, nil
}

func (s *Service) runInstanceUnrescue(ctx context.Context, t *core.Task, progress func(int, string)) (any, error) {
	p, err := core.Decode[instancePayload](t)
	if err != nil {
		return nil, err
	}
	res, err := s.unrescue(ctx, p.InstanceID, progress)
	if err != nil && core.LastAttempt(t, err) {
		s.inst.FailInstance(ctx, p.InstanceID, "instance.unrescue_failed", err)
	}
	return res, err
}

func (s *Service) unrescue(ctx context.Context, id string, progress func(int, string)) (any, error) {
	in, srv, rt, err := s.inst.LoadInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	in, done, err := s.inst.BeginInstance(ctx, in.ID, instance.ActionUnrescue)
	if err != nil {
		return nil, err
	}
	if done { // an earlier attempt finished the work but not the task record
		return map[string]string{"instance_id": in.ID, "state": string(core.StateActive)}, nil
	}
	r, ok := rt.(core.Rescuer)
	if !ok {
		return nil, core.Errorf(core.KindConflict, "the %s runtime has no rescue mode", srv.Runtime)
	}
	progress(20, "removing rescue system")
	if err := r.Unrescue(ctx, srv, in.RuntimeRef); err != nil {
		return nil, fmt.Errorf("unrescue instance %s: %w", in.Name, err)
	}
	progress(60, "waiting for the instance")
	st, err := s.inst.WaitHealthy(ctx, in, srv, rt)
	if err != nil {
		return nil, err
	}
	if _, err := s.inst.ReadyInstance(ctx, in.ID, st); err != nil {
		return nil, err
	}
	return map[string]string{"instance_id": in.ID, "state": string(core.StateActive)}, nil
}

// RescueImages are the public images a catalogue offers to boot in rescue, with
// the names and UUIDs hosting panels know them by. They have no runtime ref:
// they boot Config.RescueImage.
var RescueImages = []struct{ ID, Name, OSType string }{
	{"f8f2573f-56c4-44c5-8469-84eee4aa64e7", "Ubuntu 22.04", "linux"},
	{"0bf4deb2-855c-4863-8518-6006d804adbb", "Debian 10", "linux"},
	{"18d0ee2e-4d57-4f40-9b56-03c1773b5831", "AlmaLinux 8", "linux"},
	{"1d9dda4c-34b0-4304-a90a-8f3018722fa2", "Rocky-Linux-8", "linux"},
	{"2af0af94-0e6e-4ef3-8837-d41fdbfa3564", "Windows Server 2016", "windows"},
	{"3010ae60-0185-4021-98da-f50013147ebd", "Debian 11", "linux"},
	{"479c96f1-ccc6-47a2-952c-c9e3bbdc8d07", "Ubuntu 20.04", "linux"},
	{"5da4ad83-45f6-4c0e-9a7e-7a7c18b2be6c", "AlmaLinux 9", "linux"},
	{"7d7911e3-7178-4f36-a308-d841db5fe654", "CentOS Stream 9", "linux"},
	{"92fabac2-69cc-46ad-8439-c377e0c90632", "Ubuntu 23.04", "linux"},
	{"93878ba5-6b9e-4924-a4be-34edb623f808", "Debian 12", "linux"},
	{"a8b7bcb3-6698-4264-b413-f2b866a46a70", "Rocky-Linux-9", "linux"},
	{"b10434c0-d839-428f-a919-cac733fd6552", "Windows Server 2019", "windows"},
	{"bda2467e-e192-4e4e-becc-cda2e71b9767", "Windows Server 2022", "windows"},
}

// SeedRescueImages adds the RescueImages that the catalogue lacks, in their
// order; images present (by id) are left as they are, so it runs at
// every start and replicas racing for it do no harm. It returns how many it added.
func (s *Service) SeedRescueImages(ctx context.Context) (int, error) {
	if err := s.Check(ctx, core.ActionImageCreate, core.Resource{Type: core.ResourceImage}); err != nil {
		return 0, err
	}
	added := 0
	base := s.Now().UTC()
	for i, d := range RescueImages {
		if _, err := s.store.GetImage(ctx, d.ID); err == nil {
			continue
		} else if core.ErrorKind(err) != core.KindNotFound {
			return added, err
		}
		im := &core.Image{ID: d.ID, Name: d.Name, Zone: core.ZonePub, OSType: d.OSType, CreatedAt: base.Add(time.Duration(i) * time.Microsecond)}
		err := core.InTx(ctx, s.store, func(q Queries) error {
			if err := q.CreateImage(ctx, im); err != nil {
				return err
			}
			return s.Audit(ctx, q, "image.create", "image", im.ID, im)
		})
		if core.ErrorKind(err) == core.KindConflict {
			continue // another replica seeded it first
		}
		if err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}
