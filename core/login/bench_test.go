package login_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hostdeck/core"
	"hostdeck/core/login"
	"hostdeck/core/secret"
	"hostdeck/internal/testenv"
)

// BenchmarkLoginBurstHeap sends wrong-password logins at production argon2id
// cost (64 MiB each) under the server's default limit (two hashes at once),
// each for its own unknown name from its own address so that the login
// throttle refuses none, and each with its own password so that no two share
// a check: one at a time (the anchor: what one hash takes) and 50 at once. It
// reports the peak of the heap in use (runtime.MemStats.HeapAlloc, read every
// millisecond) above what it was before, in MiB.
func BenchmarkLoginBurstHeap(b *testing.B) {
	e := testenv.NewWith(b, testenv.Options{Hasher: secret.NewHasher(secret.DefaultParams, 2)})
	var seq atomic.Int64
	wrong := func() error {
		i := seq.Add(1)
		_, err := e.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: fmt.Sprintf("nobody-%d", i), Password: fmt.Sprintf("wrong-password-%d", i)},
			login.Origin{Face: "bench", Source: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)})
		if core.ErrorKind(err) != core.KindUnauthenticated {
			return fmt.Errorf("wrong password: %v", err)
		}
		return nil
	}
	if err := wrong(); err != nil { // the unknown users' dummy hash is made once
		b.Fatal(err)
	}
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("logins=%d", n), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				stop := sample()
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						if err := wrong(); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				top := stop()
				peak = max(peak, top-min(ms.HeapAlloc, top))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// sample reads the heap in use every millisecond until the returned function
// is called, which stops it and returns the highest figure read.
func sample() func() uint64 {
	var top uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() uint64 {
		once.Do(func() { close(stop); <-done })
		return top
	}
}

// BenchmarkLoginCached authenticates a request by an API token and by a
// password sent with it (HTTP Basic) as the faces do: "cached", a credential
// right a moment ago; beside it, the anchor "store", the same credential with
// the cache ended before each request (CredentialsChanged), so that each reads
// the store as every request did before the cache (the password still
// verified within the login guard's window: no argon2id).
func BenchmarkLoginCached(b *testing.B) {
	e := testenv.New(b)
	tok := e.Token(b, testenv.AdminUser, testenv.AdminPassword)
	for _, cred := range []struct {
		name string
		do   func() error
	}{
		{"token", func() error {
			_, err := e.Login.LoginToken(context.Background(), core.TokenAPI, tok, testenv.Origin)
			return err
		}},
		{"basic", func() error {
			_, err := e.Login.LoginPassword(context.Background(), login.PasswordLogin{UserName: testenv.AdminUser, Password: testenv.AdminPassword}, testenv.Origin)
			return err
		}},
	} {
		for _, mode := range []string{"cached", "store"} {
			b.Run(cred.name+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if mode == "store" {
						e.Login.CredentialsChanged()
					}
					if err := cred.do(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
