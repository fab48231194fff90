package storetest

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/links"
)

// testLinks checks links: numbered as they are created, names unique, listed
// in creation order, by name, sorted and paged, with stamps that move with a
// change; changed field by field, and deleted.
func testLinks(t *testing.T, st Store) {
	ctx := context.Background()
	s, isLinks := st.(links.Store)
	if !isLinks {
		t.Fatalf("%T is no links.Store", st)
	}
	mk := func(name string, at time.Duration) *links.Link {
		t.Helper()
		l := &links.Link{Name: name, Image: "/img/" + name + ".png", URL: "https://" + name + ".example.com/", Creator: "admin",
			CreatedAt: base.Add(at), UpdatedAt: base.Add(at)}
		ok(t, s.CreateLink(ctx, l))
		return l
	}
	grafana, wiki, logs := mk("grafana", 0), mk("wiki", time.Minute), mk("logs", 2*time.Minute)
	if grafana.ID == "" || grafana.Number != 1 || wiki.Number != 2 || logs.Number != 3 {
		t.Fatalf("numbers %d %d %d, id %q", grafana.Number, wiki.Number, logs.Number, grafana.ID)
	}
	got, err := s.GetLink(ctx, wiki.ID)
	ok(t, err)
	diff(t, wiki, got)
	id, err := s.IDByNumber(ctx, core.NumberLink, 3)
	ok(t, err)
	diff(t, logs.ID, id)
	wantKind(t, s.CreateLink(ctx, &links.Link{Name: "wiki", Image: "/x", URL: "https://x.example.com/"}), core.KindConflict)
	_, err = s.GetLink(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff")
	wantKind(t, err, core.KindNotFound)

	list := func(f links.LinkFilter) core.List[*links.Link] {
		t.Helper()
		l, err := s.ListLinks(ctx, f)
		ok(t, err)
		return l
	}
	all := list(links.LinkFilter{})
	diff(t, []*links.Link{grafana, wiki, logs}, all.Items)
	diff(t, 3, all.Total)
	diff(t, []*links.Link{wiki}, list(links.LinkFilter{Name: ptr("wiki")}).Items)
	diff(t, []*links.Link{}, list(links.LinkFilter{Name: ptr("Wiki")}).Items)
	byName := list(links.LinkFilter{Page: core.Page{Sort: []string{"name"}, Limit: 2}})
	diff(t, []*links.Link{grafana, logs}, byName.Items)
	diff(t, 3, byName.Total)
	page := list(links.LinkFilter{Page: core.Page{Sort: []string{"-number"}, Offset: 1, Limit: 1}})
	diff(t, []*links.Link{wiki}, page.Items)
	diff(t, 3, page.Total)
	_, err = s.ListLinks(ctx, links.LinkFilter{Page: core.Page{Sort: []string{"url"}}})
	wantKind(t, err, core.KindInvalid)
	if again := list(links.LinkFilter{Page: core.Page{Since: all.Stamp}}); all.Stamp == "" || !again.Unchanged {
		t.Fatalf("unchanged links at stamp %q: %+v", all.Stamp, again)
	}

	name, url := "docs", "http://docs.example.com/a?b=c"
	changed, err := s.UpdateLink(ctx, wiki.ID, links.LinkInput{Name: &name, URL: &url})
	ok(t, err)
	if changed.Name != "docs" || changed.URL != url || changed.Image != wiki.Image || changed.Number != wiki.Number || !changed.UpdatedAt.After(wiki.UpdatedAt) {
		t.Fatalf("updated: %+v", changed)
	}
	if after := list(links.LinkFilter{Page: core.Page{Since: all.Stamp}}); after.Unchanged || after.Stamp == all.Stamp {
		t.Fatal("a change kept the links' stamp")
	}
	name = "grafana"
	_, err = s.UpdateLink(ctx, wiki.ID, links.LinkInput{Name: &name})
	wantKind(t, err, core.KindConflict)
	_, err = s.UpdateLink(ctx, "0190b6c4-6d5a-7000-8000-0000000000ff", links.LinkInput{Name: ptr("x")})
	wantKind(t, err, core.KindNotFound)

	ok(t, s.DeleteLink(ctx, wiki.ID))
	wantKind(t, s.DeleteLink(ctx, wiki.ID), core.KindNotFound)
	_, err = s.IDByNumber(ctx, core.NumberLink, 2)
	wantKind(t, err, core.KindNotFound)
	// A number is never given again (4 went to the create that conflicted,
	// outside a transaction); a freed name is.
	again := mk("docs", 3*time.Minute)
	diff(t, int64(5), again.Number)
	diff(t, []*links.Link{grafana, logs, again}, list(links.LinkFilter{}).Items)
}
