package testenv

import (
	"context"
	"testing"

	"hostdeck/core"
)

// Stall wraps store so that looking up the user called key, or the token whose
// hash is key, waits until the caller's context ends and then asks store with
// that ended context: a core call still running when its client goes away,
// failing as the database driver then fails. Each stalled call sends on the
// returned channel as it starts waiting.
func Stall(store Store, key string) (Store, <-chan struct{}) {
	s := &stalled{Store: store, key: key, waiting: make(chan struct{}, 16)}
	return s, s.waiting
}

type stalled struct {
	Store
	key     string
	waiting chan struct{}
}

func (s *stalled) wait(ctx context.Context, key string) {
	if key != s.key {
		return
	}
	select {
	case s.waiting <- struct{}{}:
	default:
	}
	<-ctx.Done()
}

func (s *stalled) GetUserByName(ctx context.Context, name string) (*core.User, error) {
	s.wait(ctx, name)
	return s.Store.GetUserByName(ctx, name)
}

func (s *stalled) GetTokenByHash(ctx context.Context, hash string) (*core.Token, error) {
	s.wait(ctx, hash)
	return s.Store.GetTokenByHash(ctx, hash)
}

// Stores are the stores a test can run on: SQLite, and PostgreSQL (which skips
// the test without a server, see PostgresDSN).
var Stores = []struct {
	Name string
	Open func(testing.TB) Store
}{{"sqlite", SQLite}, {"postgres", Postgres}}
