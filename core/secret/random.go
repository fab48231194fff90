package secret

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// passwordAlphabet leaves out characters that are easily confused when a password
// is read from an e-mail and typed: 0 O o, 1 l I.
const (
	lower            = "abcdefghijkmnpqrstuvwxyz"
	upper            = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	digits           = "23456789"
	passwordAlphabet = lower + upper + digits
)

// RandomPassword returns a random password of n characters from an unambiguous
// alphabet. When n >= 3 it holds at least one lower-case letter, one upper-case
// letter and one digit, so it passes the usual password policies. It panics if n < 1.
func RandomPassword(n int) string {
	if n < 1 {
		panic("secret: RandomPassword length < 1")
	}
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = passwordAlphabet[randIndex(len(passwordAlphabet))]
		}
		s := string(b)
		if n < 3 || strings.ContainsAny(s, lower) && strings.ContainsAny(s, upper) && strings.ContainsAny(s, digits) {
			return s
		}
	}
}

// randIndex returns a uniform random integer in [0, n) for 0 < n <= 256, by
// rejecting bytes that would bias the result.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// RandomToken returns 32 random bytes as unpadded base64url (43 characters), for
// session and API tokens.
func RandomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
