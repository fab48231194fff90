package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
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

// limiter caps concurrent hashing: each hash holds Params.Memory for its duration,
// so unbounded parallel logins could exhaust memory on a small machine.
var limiter = make(chan struct{}, max(1, runtime.NumCPU()))

func (p Params) validate() error {
	if p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return fmt.Errorf("secret: invalid argon2id parameters m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
	}
	return nil
}

func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

func idKey(password string, salt []byte, p Params, n uint32) []byte {
	limiter <- struct{}{}
	defer func() { <-limiter }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n)
}

// Hash returns the argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash, unpadded standard base64).
func Hash(password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := idKey(password, salt, p, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", argon2.Version, p, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded. The cost parameters are read
// from encoded, so hashes made under older parameters still verify. A string that
// is not a valid argon2id hash gives ErrMalformedHash.
func Verify(password, encoded string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := idKey(password, salt, p, uint32(len(key)))
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

// Hasher hashes new passwords with Params; it is core.Hasher.
type Hasher struct {
	Params Params
}

// Hash hashes password with h.Params.
func (h Hasher) Hash(password string) (string, error) { return Hash(password, h.Params) }

// Verify reports whether password matches encoded; see the package function Verify.
func (h Hasher) Verify(password, encoded string) (bool, error) { return Verify(password, encoded) }
