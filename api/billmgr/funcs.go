package billmgr

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/login"
)

// whoami is func=whoami: the authenticated user and role.
func (f *face) whoami(ctx context.Context, u *core.User, p params) (node, error) {
	return node{"user": text(u.Name), "role": text(string(u.Role))}, nil
}

// listInstances is func=instances: one page (p_num, p_cnt) of the instances the
// user sees, in the panel's list shape (doc.elem, one object per instance, every
// value as {"$": …}), with p_num, p_cnt and the total, p_elems, beside it. The
// answer is kept while the instances are unchanged (httpx.Answers), by user,
// page and format: what a user sees depends on who asks.
func (f *face) listInstances(w http.ResponseWriter, r *http.Request, l *login.Login, p params, out string) error {
	num, cnt, err := p.page()
	if err != nil {
		return err
	}
	ctx := core.WithActor(r.Context(), l.Actor)
	key := httpx.AnswerKey(r, "instances", l.User.ID, out, strconv.Itoa(num), strconv.Itoa(cnt))
	return f.answers.Serve(w, key, func(since core.Stamp) (httpx.Listed, error) {
		list, err := f.svc.ListVisibleInstances(ctx, core.Page{Offset: (num - 1) * cnt, Limit: cnt, Since: since})
		if err != nil {
			return httpx.Listed{}, err
		}
		return httpx.Listed{Stamp: list.Stamp, Unchanged: list.Unchanged, Render: func(w http.ResponseWriter) error {
			write(w, out, instancesDoc(list, num, cnt))
			return nil
		}}, nil
	})
}

// instancesDoc is the document of func=instances.
func instancesDoc(list core.List[*core.NumberedInstance], num, cnt int) node {
	elems := make([]node, 0, len(list.Items))
	for _, in := range list.Items {
		e := node{
			"id":         text(strconv.FormatInt(in.Number, 10)),
			"uuid":       text(in.ID),
			"name":       text(in.Name),
			"status":     text(string(in.State)),
			"ip":         text(in.Address),
			"server_id":  text(in.ServerID),
			"created_at": text(in.CreatedAt.UTC().Format("2006-01-02 15:04:05")),
		}
		if in.ProjectID != "" {
			e["project_id"] = text(in.ProjectID)
		}
		if in.ImageID != "" {
			e["image_id"] = text(in.ImageID)
		}
		elems = append(elems, e)
	}
	return node{"$func": "instances", "elem": elems, "p_num": text(strconv.Itoa(num)), "p_cnt": text(strconv.Itoa(cnt)),
		"p_elems": text(strconv.Itoa(list.Total))}
}

// resolve turns the elid parameter into instance ids; an id the user does not
// see is KindNotFound, before anything changes.
func (f *face) resolve(ctx context.Context, p params) ([]int64, []string, error) {
	elids, err := p.elids()
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(elids))
	for i, e := range elids {
		in, err := f.svc.InstanceByNumber(ctx, e)
		if err != nil {
			return nil, nil, err
		}
		ids[i] = in.ID
	}
	return elids, ids, nil
}

// tasksDoc is the answer of a confirmed action: ok, and one task per instance.
func tasksDoc(elids []int64, tasks []*core.Task) node {
	ts := make([]node, len(tasks))
	for i, t := range tasks {
		ts[i] = node{"$elid": strconv.FormatInt(elids[i], 10), "$": t.ID}
	}
	return node{"ok": node{}, "task": ts}
}

// action is a func that runs do on every instance of elid (a comma-separated list
// may name several): all are resolved first; the first failure stops the rest.
func (f *face) action(name string, do func(ctx context.Context, id string) (*core.Task, error)) handlerFunc {
	return func(ctx context.Context, u *core.User, p params) (node, error) {
		elids, ids, err := f.resolve(ctx, p)
		if err != nil {
			return nil, err
		}
		tasks := make([]*core.Task, 0, len(ids))
		for _, id := range ids {
			t, err := do(ctx, id)
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, t)
		}
		return tasksDoc(elids, tasks), nil
	}
}

// zoneList is the zone list of a form.
func zoneList(zones ...string) node {
	vals := make([]node, len(zones))
	for i, z := range zones {
		vals[i] = node{"$key": z, "$": z}
	}
	return node{"$name": "zone", "val": vals}
}

// rescue is func=instances.fleio.rescue. Without sok=ok it is a preview that
// changes nothing: doc.slist holds the zones and the images (select_boot) the user
// may boot. With sok=ok, select_boot (or select_boot_from_iso) and zone, the
// instances go into rescue as tasks, with the optional password.
func (f *face) rescue(ctx context.Context, u *core.User, p params) (node, error) {
	elids, ids, err := f.resolve(ctx, p)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(p["sok"]) != "ok" {
		ims, _, err := f.images.ListImages(ctx, core.Page{})
		if err != nil {
			return nil, err
		}
		vals := make([]node, 0, len(ims))
		for _, im := range ims {
			v := node{"$depend": im.Zone, "$key": im.ID, "$": im.Name}
			if im.Zone == core.ZoneOwn {
				v["$name"] = im.Name
			}
			vals = append(vals, v)
		}
		return node{
			"elid":  text(p["elid"]),
			"slist": []node{zoneList(core.ZonePub, core.ZoneOwn), {"$name": "select_boot", "val": vals}},
		}, nil
	}
	imageID := strings.TrimSpace(p["select_boot"])
	if imageID == "" {
		imageID = strings.TrimSpace(p["select_boot_from_iso"])
	}
	if imageID == "" {
		return nil, errMissed("select_boot")
	}
	if !core.ValidID(imageID) {
		return nil, errValue("select_boot", "not an image UUID")
	}
	zone, err := p.required("zone")
	if err != nil {
		return nil, err
	}
	if zone != core.ZonePub && zone != core.ZoneOwn {
		return nil, errValue("zone", "expected pub or own")
	}
	notInZone := &core.Error{Kind: core.KindNotFound, Field: "select_boot", Message: "image " + quote(imageID) + " not found in zone " + zone}
	im, err := f.images.GetImage(ctx, imageID)
	if core.ErrorKind(err) == core.KindNotFound || err == nil && im.Zone != zone {
		return nil, notInZone
	}
	if err != nil {
		return nil, err
	}
	tasks := make([]*core.Task, 0, len(ids))
	for _, id := range ids {
		t, err := f.svc.Rescue(ctx, id, imageID, p["password"])
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasksDoc(elids, tasks), nil
}

// listImages is func=image: the images the user may use, as a list.
func (f *face) listImages(ctx context.Context, u *core.User, p params) (node, error) {
	ims, _, err := f.images.ListImages(ctx, core.Page{})
	if err != nil {
		return nil, err
	}
	elems := make([]node, 0, len(ims))
	for _, im := range ims {
		e := node{"id": text(im.ID), "name": text(im.Name), "zone": text(im.Zone), "os": text(im.OSType)}
		if im.OwnerID != "" {
			e["owner"] = text(im.OwnerID)
		}
		elems = append(elems, e)
	}
	return node{"elem": elems}, nil
}

// createImage is func=image.edit (admins): with sok=ok, name, ref (the runtime
// image), zone (pub or own) and, for own, owner (a user name or id) add an image
// to the catalogue. Without sok it shows the form's zone list.
func (f *face) createImage(ctx context.Context, u *core.User, p params) (node, error) {
	zones, err := f.images.ImageZones(ctx) // the form, for those who may add images
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(p["sok"]) != "ok" {
		return node{"slist": []node{zoneList(zones...)}}, nil
	}
	in := core.ImageInput{Name: p["name"], Ref: p["ref"], Zone: strings.TrimSpace(p["zone"]), OSType: strings.TrimSpace(p["os"]),
		Owner: strings.TrimSpace(p["owner"])}
	if in.Name == "" {
		return nil, errMissed("name")
	}
	if in.Ref == "" {
		return nil, errMissed("ref")
	}
	im, err := f.images.CreateImage(ctx, in)
	if err != nil {
		return nil, err
	}
	return node{"ok": node{}, "id": text(im.ID)}, nil
}
