package core_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"hostdeck/core"
)

// walker is a server's instances in creation order, listed as the store does.
type walker struct {
	insts []*core.Instance
	calls []int // the size of each answer
}

func (w *walker) ListInstancesAfter(_ context.Context, _ string, after *core.Instance, limit int) ([]*core.Instance, error) {
	i := 0
	if after != nil {
		i = slices.IndexFunc(w.insts, func(in *core.Instance) bool { return in.ID == after.ID }) + 1
	}
	out := w.insts[i:min(i+limit, len(w.insts))]
	w.calls = append(w.calls, len(out))
	return out, nil
}

// TestWalkInstances: a walk hands every instance once, in order, in batches
// of at most the size asked, and asks again only while a batch came full.
func TestWalkInstances(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		n     int
		calls []int
	}{{0, []int{0}}, {3, []int{3}}, {4, []int{4, 0}}, {9, []int{4, 4, 1}}} {
		w := &walker{}
		for i := range tc.n {
			w.insts = append(w.insts, &core.Instance{ID: fmt.Sprintf("i%02d", i), CreatedAt: at.Add(time.Duration(i))})
		}
		var got []*core.Instance
		err := core.WalkInstances(context.Background(), w, "srv", 4, func(b []*core.Instance) error {
			if len(b) == 0 || len(b) > 4 {
				t.Errorf("n=%d: a batch of %d", tc.n, len(b))
			}
			got = append(got, b...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, w.insts) || !slices.Equal(w.calls, tc.calls) {
			t.Errorf("n=%d: walked %d of %d, answers %v (want %v)", tc.n, len(got), tc.n, w.calls, tc.calls)
		}
	}
	stop := fmt.Errorf("stop")
	w := &walker{insts: []*core.Instance{{ID: "a"}, {ID: "b"}}}
	if err := core.WalkInstances(context.Background(), w, "srv", 1, func([]*core.Instance) error { return stop }); err != stop {
		t.Fatalf("a failing batch: %v", err)
	}
}
