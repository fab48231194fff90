package task_test

import (
	"context"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/task"
)

// BenchmarkRunNoopTasks measures how fast one runner with default options drains
// 1,000 tasks that do nothing: the cost of claiming and recording outcomes.
func BenchmarkRunNoopTasks(b *testing.B) {
	const n = 1000
	s := newStore(b)
	handlers := map[string]core.TaskFunc{
		"noop": func(context.Context, *core.Task, func(int, string)) (any, error) { return nil, nil },
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for range n {
			createTask(b, s, "noop")
		}
		b.StartTimer()
		r := startRunner(b, s, handlers, nil, task.Options{Owner: "bench"})
		for r.Stats().Succeeded < n {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		if err := r.stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tasks/s")
}
