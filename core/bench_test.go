package core_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/cloud"
	"hostdeck/internal/testenv"
)

// BenchmarkCreate1000Clients creates 1,000 clients on the simulator with zero
// delay and waits until every one is built (instance active, password hook run,
// welcome e-mail sent): one op is the whole thousand, end to end.
func BenchmarkCreate1000Clients(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := testenv.New(b)
		e.Server(b, "s1", 600)
		e.Server(b, "s2", 600)
		ctx := e.AdminCtx()
		b.StartTimer()
		for i := range 1000 {
			name, email := fmt.Sprintf("lab-%04d", i), fmt.Sprintf("lab%04d@example.test", i)
			if _, _, err := e.Cloud.CreateClient(ctx, cloud.ClientInput{Name: &name, Email: &email}); err != nil {
				b.Fatal(err)
			}
		}
		waitAllTasks(b, e, 2000) // creates and their welcome e-mails
	}
}

func waitAllTasks(b *testing.B, e *testenv.Env, want int) {
	b.Helper()
	ok := core.TaskSuccess
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, n, err := e.Store.ListTasks(context.Background(), core.TaskFilter{Status: &ok, Page: core.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			counts, _ := e.Store.CountTasksByStatus(context.Background())
			b.Fatalf("tasks after 2 min: %v", counts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
