package secret

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse", TestParams)
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=64,t=1,p=1$"; !strings.HasPrefix(h, want) {
		t.Fatalf("hash %q does not start with %q", h, want)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse", true},
		{"correct horsE", false},
		{"", false},
		{"correct horse ", false},
	} {
		ok, err := Verify(tc.password, h)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v, nil", tc.password, ok, err, tc.want)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a, _ := Hash("same", TestParams)
	b, _ := Hash("same", TestParams)
	if a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyUsesEncodedParams(t *testing.T) {
	old := Params{Memory: 128, Time: 2, Threads: 2}
	h, err := Hash("pw", old)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "$m=128,t=2,p=2$") {
		t.Fatalf("params not encoded: %q", h)
	}
	if ok, err := (Hasher{Params: TestParams}).Verify(context.Background(), "pw", h); !ok || err != nil {
		t.Fatalf("Verify with other current params = %v, %v", ok, err)
	}
	if !NeedsRehash(h, TestParams) || NeedsRehash(h, old) || !NeedsRehash("junk", old) {
		t.Fatal("NeedsRehash wrong")
	}
}

func TestVerifyKnownVector(t *testing.T) {
	// Produced by the reference argon2 CLI:
	// echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e
	const h = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	ok, err := Verify("password", h)
	if err != nil || !ok {
		t.Fatalf("Verify(reference vector) = %v, %v", ok, err)
	}
}

func TestHashBadParams(t *testing.T) {
	for _, p := range []Params{{}, {Memory: 64, Time: 0, Threads: 1}, {Memory: 64, Time: 1, Threads: 0}, {Memory: 8, Time: 1, Threads: 2}} {
		if _, err := Hash("x", p); err == nil {
			t.Errorf("Hash with %+v: no error", p)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := Hash("pw", TestParams)
	f := strings.Split(good, "$")
	for name, s := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"version":       strings.Replace(good, "v=19", "v=16", 1),
		"no version":    "$argon2id$" + strings.Join(f[3:], "$"),
		"extra field":   good + "$x",
		"no leading $":  good[1:],
		"params order?": "$argon2id$v=19$m=64,t=1$" + f[4] + "$" + f[5],
		"dup param":     "$argon2id$v=19$m=64,m=64,t=1$" + f[4] + "$" + f[5],
		"unknown param": "$argon2id$v=19$m=64,t=1,x=1$" + f[4] + "$" + f[5],
		"zero time":     "$argon2id$v=19$m=64,t=0,p=1$" + f[4] + "$" + f[5],
		"zero threads":  "$argon2id$v=19$m=64,t=1,p=0$" + f[4] + "$" + f[5],
		"threads > 255": "$argon2id$v=19$m=64,t=1,p=256$" + f[4] + "$" + f[5],
		"huge memory":   "$argon2id$v=19$m=4294967295,t=1,p=1$" + f[4] + "$" + f[5],
		"negative":      "$argon2id$v=19$m=-64,t=1,p=1$" + f[4] + "$" + f[5],
		"bad salt b64":  "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + f[5],
		"padded salt":   "$argon2id$v=19$m=64,t=1,p=1$" + f[4] + "==$" + f[5],
		"short hash":    "$argon2id$v=19$m=64,t=1,p=1$" + f[4] + "$AAAA",
		"empty hash":    "$argon2id$v=19$m=64,t=1,p=1$" + f[4] + "$",
	} {
		ok, err := Verify("pw", s)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify(%q) = %v, %v; want false, ErrMalformedHash", name, s, ok, err)
		}
	}
}

func TestHashConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			pw := RandomPassword(8 + i)
			h, err := Hash(pw, TestParams)
			if err != nil {
				t.Error(err)
				return
			}
			if ok, err := Verify(pw, h); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
}

func BenchmarkHash(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Params
	}{{"Default", DefaultParams}, {"Test", TestParams}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Hash("correct horse battery staple", bc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A Hasher computes no more hashes at once than its limit lets: past it, a
// call waits for its turn no longer than its context lasts, and a hash of a
// cost above the whole limit (a stored hash of an older, larger cost) still
// runs, alone.
func TestHasherLimit(t *testing.T) {
	h := NewHasher(TestParams, 1)
	stored, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.limit.sem.Acquire(context.Background(), h.limit.budget); err != nil { // the limit is taken
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if ok, err := h.Verify(ctx, "pw", stored); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify past the limit = %v, %v; want the context's deadline", ok, err)
	}
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash past the limit: %v; want the context's deadline", err)
	}
	done := make(chan error, 1)
	go func() {
		ok, err := h.Verify(context.Background(), "pw", stored)
		if err == nil && !ok {
			err = errors.New("no match")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Verify ran with the limit taken: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	h.limit.sem.Release(h.limit.budget)
	if err := <-done; err != nil {
		t.Fatalf("Verify once the limit is free: %v", err)
	}
	larger, err := Hash("pw", Params{Memory: 4 * TestParams.Memory, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(context.Background(), "pw", larger); !ok || err != nil {
		t.Fatalf("Verify of a hash costlier than the limit = %v, %v", ok, err)
	}
}
