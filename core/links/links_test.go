package links_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"hostdeck/core"
	"hostdeck/core/identity"
	"hostdeck/core/links"
	"hostdeck/internal/testenv"
)

func input(name, image, url string) links.LinkInput {
	return links.LinkInput{Name: &name, Image: &image, URL: &url}
}

func member(t *testing.T, e *testenv.Env, name string) (*core.User, context.Context) {
	t.Helper()
	pw := name + "-password"
	u, err := e.Identity.CreateUser(e.AdminCtx(), identity.UserInput{Name: &name, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	return u, core.WithActor(context.Background(), core.Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Face: "test"})
}

// audited is the detail of each audit event of action, oldest first.
func audited(t *testing.T, e *testenv.Env, action string) []map[string]any {
	t.Helper()
	evs, _, err := e.Svc.ListAudit(e.AdminCtx(), core.AuditFilter{Action: &action, Page: core.Page{Sort: []string{"at", "id"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := []map[string]any{}
	for _, ev := range evs {
		var d map[string]any
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestLinks: an administrator creates, reads, lists, changes and deletes
// links, each change audited; a change of nothing writes nothing.
func TestLinks(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	l, err := e.Links.Create(ctx, input("grafana", "/static/grafana.png", "https://grafana.example.com/d/1"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Number != 1 || l.Creator != testenv.AdminUser || l.CreatedAt.IsZero() {
		t.Fatalf("created %+v", l)
	}
	if _, err := e.Links.Create(ctx, input("grafana", "/x.png", "https://x.example.com/")); core.ErrorKind(err) != core.KindConflict {
		t.Errorf("a second grafana: %v", err)
	}
	wiki, err := e.Links.Create(ctx, input("wiki", "https://cdn.example.com/wiki.svg", "http://wiki.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	for _, get := range []func() (*links.Link, error){
		func() (*links.Link, error) { return e.Links.Get(ctx, l.ID) },
		func() (*links.Link, error) { return e.Links.GetByNumber(ctx, 1) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(l, got); d != "" {
			t.Errorf("read back (-want +got):\n%s", d)
		}
	}
	for _, n := range []int64{0, -1, 99} {
		if _, err := e.Links.GetByNumber(ctx, n); core.ErrorKind(err) != core.KindNotFound {
			t.Errorf("link number %d: %v", n, err)
		}
	}
	for _, id := range []string{"not-a-uuid", core.NewID()} {
		if _, err := e.Links.Get(ctx, id); core.ErrorKind(err) != core.KindNotFound {
			t.Errorf("link %s: %v", id, err)
		}
	}
	all, err := e.Links.List(ctx, links.LinkFilter{})
	if err != nil || all.Total != 2 || all.Items[0].ID != l.ID || all.Items[1].ID != wiki.ID {
		t.Fatalf("list: %+v, %v", all, err)
	}
	byName, err := e.Links.List(ctx, links.LinkFilter{Name: core.Ptr("wiki")})
	if err != nil || len(byName.Items) != 1 || byName.Items[0].ID != wiki.ID {
		t.Fatalf("list by name: %+v, %v", byName, err)
	}
	if got := audited(t, e, "link.create"); len(got) != 2 || got[0]["name"] != "grafana" || got[0]["url"] != l.URL {
		t.Errorf("link.create events: %v", got)
	}

	name, url := "dashboards", "https://grafana.example.com/"
	image := l.Image // the same: not a change
	changed, err := e.Links.Update(ctx, l.ID, links.LinkInput{Name: &name, Image: &image, URL: &url})
	if err != nil || changed.Name != name || changed.URL != url || changed.Image != l.Image || changed.Number != 1 {
		t.Fatalf("update: %+v, %v", changed, err)
	}
	want := []map[string]any{{
		"before": map[string]any{"name": "grafana", "url": l.URL},
		"after":  map[string]any{"name": name, "url": url},
	}}
	if d := cmp.Diff(want, audited(t, e, "link.edit")); d != "" {
		t.Errorf("link.edit events (-want +got):\n%s", d)
	}
	same, err := e.Links.Update(ctx, l.ID, links.LinkInput{Name: &name})
	if err != nil || !same.UpdatedAt.Equal(changed.UpdatedAt) || len(audited(t, e, "link.edit")) != 1 {
		t.Errorf("a change of nothing: %+v, %v", same, err)
	}
	if _, err := e.Links.Update(ctx, l.ID, links.LinkInput{Name: &wiki.Name}); core.ErrorKind(err) != core.KindConflict {
		t.Errorf("renamed to wiki: %v", err)
	}
	if _, err := e.Links.Update(ctx, core.NewID(), links.LinkInput{Name: core.Ptr("x")}); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("update of no link: %v", err)
	}

	if err := e.Links.Delete(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Links.Get(ctx, l.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("deleted link: %v", err)
	}
	if err := e.Links.Delete(ctx, l.ID); core.ErrorKind(err) != core.KindNotFound {
		t.Errorf("deleted twice: %v", err)
	}
	if got := audited(t, e, "link.delete"); len(got) != 1 || got[0]["name"] != name {
		t.Errorf("link.delete events: %v", got)
	}
}

// TestLinkRules: every field is required on creation, a URL is an absolute
// http or https URL, an image a path on the site or such a URL, and no field
// is too long or holds control characters.
func TestLinkRules(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	long := "https://example.com/" + strings.Repeat("a", links.MaxURLLen)
	for _, c := range []struct {
		name       string
		in         links.LinkInput
		field, msg string
	}{
		{"no name", links.LinkInput{Image: core.Ptr("/a.png"), URL: core.Ptr("https://a.example.com/")}, "name", ""},
		{"no image", links.LinkInput{Name: core.Ptr("a"), URL: core.Ptr("https://a.example.com/")}, "image", ""},
		{"no url", links.LinkInput{Name: core.Ptr("a"), Image: core.Ptr("/a.png")}, "url", ""},
		{"an empty name", input("", "/a.png", "https://a.example.com/"), "name", ""},
		{"a long name", input(strings.Repeat("n", core.MaxNameLen+1), "/a.png", "https://a.example.com/"), "name", ""},
		{"a control character", input("a\x00b", "/a.png", "https://a.example.com/"), "name", ""},
		{"another scheme", input("a", "/a.png", "ftp://a.example.com/"), "url", "url must be an http or https URL"},
		{"script", input("a", "/a.png", "javascript:alert(1)"), "url", "url must be an http or https URL"},
		{"a path", input("a", "/a.png", "/dashboards"), "url", "url must be an http or https URL"},
		{"no host", input("a", "/a.png", "https:///x"), "url", "url must be an http or https URL"},
		{"a line break", input("a", "/a.png", "https://a.example.com/\nx"), "url", ""},
		{"a long url", input("a", "/a.png", long), "url", ""},
		{"an image without a slash", input("a", "a.png", "https://a.example.com/"), "image", ""},
		{"an image on another host", input("a", "//evil.example.com/a.png", "https://a.example.com/"), "image", ""},
		{"an image of data", input("a", "data:image/png;base64,AAAA", "https://a.example.com/"), "image", ""},
		{"a long image", input("a", long, "https://a.example.com/"), "image", ""},
	} {
		_, err := e.Links.Create(ctx, c.in)
		if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) != c.field || c.msg != "" && core.ErrorMessage(err) != c.msg {
			t.Errorf("%s: %v (field %q), want invalid %s %q", c.name, err, core.ErrorField(err), c.field, c.msg)
		}
	}
	l, err := e.Links.Create(ctx, input("ok", "https://cdn.example.com/a.png?v=2", "HTTPS://a.example.com:8443/x?y=z#w"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Links.Update(ctx, l.ID, links.LinkInput{URL: core.Ptr("mailto:a@example.com")}); core.ErrorKind(err) != core.KindInvalid {
		t.Errorf("changed to mailto: %v", err)
	}
}

// TestLinkAccess: a member sees and changes no link until granted; link.view
// on every link lets it read and list them, and link.manage on one lets it
// change that one only.
func TestLinkAccess(t *testing.T) {
	e := testenv.New(t)
	ctx := e.AdminCtx()
	a, err := e.Links.Create(ctx, input("a", "/a.png", "https://a.example.com/"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Links.Create(ctx, input("b", "/b.png", "https://b.example.com/"))
	if err != nil {
		t.Fatal(err)
	}
	sam, samCtx := member(t, e, "sam")
	forbidden := func(what string, err error) {
		t.Helper()
		if core.ErrorKind(err) != core.KindForbidden {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
	_, err = e.Links.Get(samCtx, a.ID)
	forbidden("get", err)
	_, err = e.Links.GetByNumber(samCtx, 99)
	forbidden("get an unknown number", err)
	_, err = e.Links.List(samCtx, links.LinkFilter{})
	forbidden("list", err)
	_, err = e.Links.Create(samCtx, input("c", "/c.png", "https://c.example.com/"))
	forbidden("create", err)

	to := core.Grantee{Kind: core.GranteeUser, ID: sam.ID}
	if _, err := e.Svc.ChangeGrants(ctx, []core.GrantChange{
		{Grant: core.Grant{Grantee: to, Action: core.ActionLinkView}},
		{Grant: core.Grant{Grantee: to, Action: core.ActionLinkManage, ResourceID: b.ID}},
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Links.GetByNumber(samCtx, a.Number); err != nil || got.ID != a.ID {
		t.Errorf("granted, get: %+v, %v", got, err)
	}
	if list, err := e.Links.List(samCtx, links.LinkFilter{}); err != nil || list.Total != 2 {
		t.Errorf("granted, list: %+v, %v", list, err)
	}
	if _, err := e.Links.Update(samCtx, b.ID, links.LinkInput{Name: core.Ptr("bee")}); err != nil {
		t.Errorf("granted, update b: %v", err)
	}
	_, err = e.Links.Update(samCtx, a.ID, links.LinkInput{Name: core.Ptr("ay")})
	forbidden("update a", err)
	forbidden("delete a", e.Links.Delete(samCtx, a.ID))
	_, err = e.Links.Create(samCtx, input("c", "/c.png", "https://c.example.com/"))
	forbidden("create, granted one link", err)
}
