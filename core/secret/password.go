package secret

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"
)

// Params are the argon2id cost parameters. Memory is in KiB.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
}

var (
	// DefaultParams are production costs: 64 MiB, one pass, two lanes.
	DefaultParams = Params{Memory: 64 * 1024, Time: 1, Threads: 2}
	// TestParams are the cheapest valid costs, for tests only.
	TestParams = Params{Memory: 64, Time: 1, Threads: 1}
)

const (
	saltLen = 16
	keyLen  = 32
	// maxMemory bounds the memory an encoded hash may ask for (4 GiB), so a
	// corrupt stored hash cannot exhaust the machine.
	maxMemory = 4 * 1024 * 1024
)

// ErrMalformedHash is returned by Verify for a string that is not an argon2id PHC hash.
var ErrMalformedHash = errors.New("secret: malformed argon2id hash")

// memLimit bounds the memory of the hashes computed at once: each holds its
// cost (the Memory of its parameters, in KiB) of the budget while it runs, and
// waits, no longer than its context lasts, while the budget is spent, so that
// a burst of logins waits in line rather than allocates. A hash costlier than
// the whole budget (a stored hash of an older, larger cost) takes all of it.
type memLimit struct {
	sem    *semaphore.Weighted
	budget int64
}

func newMemLimit(kib int64) *memLimit {
	kib = max(kib, 1)
	return &memLimit{sem: semaphore.NewWeighted(kib), budget: kib}
}

// defaultLimit is the limit of the package's functions and of a Hasher made
// without NewHasher: one hash at DefaultParams per CPU.
var defaultLimit = newMemLimit(int64(max(1, runtime.NumCPU())) * int64(DefaultParams.Memory))

func (p Params) validate() error {
	if p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return fmt.Errorf("secret: invalid argon2id parameters m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
	}
	return nil
}

func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

// idKey computes argon2id within the limit; it fails only when ctx ends
// before the limit lets it start (ctx's error).
func (l *memLimit) idKey(ctx context.Context, password string, salt []byte, p Params, n uint32) ([]byte, error) {
	w := min(int64(p.Memory), l.budget)
	if err := l.sem.Acquire(ctx, w); err != nil {
		return nil, err
	}
	defer l.sem.Release(w)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n)
	if p.Memory >= collectFromKiB {
		// The hash's memory is garbage now: collect it before the next hash
		// takes this one's turn, so that hashing holds no more than the
		// limit. Left to the pacer, which counts the hashes in flight as live
		// heap, as much garbage again piles up before a collection (a burst
		// of 50 logins took 256 to 384 MiB under a limit of two 64 MiB
		// hashes); a collection costs a fraction of a hash of this size.
		runtime.GC()
	}
	return key, nil
}

// collectFromKiB is the cost from which a hash's memory is collected as soon
// as it is done (DefaultParams are 64 MiB; TestParams 64 KiB are not).
const collectFromKiB = 8 * 1024

// Hash returns the argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash, unpadded standard base64).
func Hash(password string, p Params) (string, error) {
	return defaultLimit.hash(context.Background(), password, p)
}

func (l *memLimit) hash(ctx context.Context, password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key, err := l.idKey(ctx, password, salt, p, keyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", argon2.Version, p, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded. The cost parameters are read
// from encoded, so hashes made under older parameters still verify. A string that
// is not a valid argon2id hash gives ErrMalformedHash.
func Verify(password, encoded string) (bool, error) {
	return defaultLimit.verify(context.Background(), password, encoded)
}

func (l *memLimit) verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := l.idKey(ctx, password, salt, p, uint32(len(key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than p (or is
// malformed), so a caller can store a fresh hash after a successful login.
func NeedsRehash(encoded string, p Params) bool {
	got, _, _, err := decode(encoded)
	return err != nil || got != p
}

func decode(encoded string) (p Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, f[2])
	}
	p, err = parseParams(f[3])
	if err != nil {
		return p, nil, nil, err
	}
	b64 := base64.RawStdEncoding.Strict()
	if salt, err = b64.DecodeString(f[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	if key, err = b64.DecodeString(f[5]); err != nil || len(key) < 16 || len(key) > 1024 {
		return p, nil, nil, fmt.Errorf("%w: bad hash", ErrMalformedHash)
	}
	return p, salt, key, nil
}

func parseParams(s string) (Params, error) {
	var p Params
	seen := map[string]bool{}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return p, fmt.Errorf("%w: bad parameters %q", ErrMalformedHash, s)
		}
		seen[k] = true
		bits := 32
		if k == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return p, fmt.Errorf("%w: bad parameters %q", ErrMalformedHash, s)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			p.Threads = uint8(n)
		default:
			return p, fmt.Errorf("%w: bad parameters %q", ErrMalformedHash, s)
		}
	}
	if len(seen) != 3 {
		return p, fmt.Errorf("%w: bad parameters %q", ErrMalformedHash, s)
	}
	if err := p.validate(); err != nil {
		return p, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, nil
}

// Hasher hashes new passwords with Params and verifies stored hashes, within
// a limit of memory (NewHasher); it is core.Hasher. A Hasher made without
// NewHasher shares the package's limit: one hash at DefaultParams per CPU.
type Hasher struct {
	Params Params
	limit  *memLimit
}

// NewHasher returns a Hasher of new hashes with p that computes at most n
// hashes of that cost at once, so that hashing holds at most n × p.Memory KiB
// whatever the number of logins; the others wait for their turn.
func NewHasher(p Params, n int) Hasher {
	return Hasher{Params: p, limit: newMemLimit(int64(max(n, 1)) * int64(p.Memory))}
}

func (h Hasher) lim() *memLimit {
	if h.limit == nil {
		return defaultLimit
	}
	return h.limit
}

// Hash hashes password with h.Params. It waits for its turn no longer than
// ctx lasts, and then fails with ctx's error.
func (h Hasher) Hash(ctx context.Context, password string) (string, error) {
	return h.lim().hash(ctx, password, h.Params)
}

// Verify reports whether password matches encoded (see the package function
// Verify), waiting for its turn as Hash does.
func (h Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	return h.lim().verify(ctx, password, encoded)
}
