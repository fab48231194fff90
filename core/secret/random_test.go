package secret

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for n := 1; n <= 40; n++ {
		p := RandomPassword(n)
		if len(p) != n {
			t.Fatalf("RandomPassword(%d) has length %d", n, len(p))
		}
		for _, c := range p {
			if !strings.ContainsRune(passwordAlphabet, c) {
				t.Fatalf("RandomPassword(%d) = %q holds %q outside the alphabet", n, p, c)
			}
		}
		if n >= 3 && !(strings.ContainsAny(p, lower) && strings.ContainsAny(p, upper) && strings.ContainsAny(p, digits)) {
			t.Fatalf("RandomPassword(%d) = %q lacks a character class", n, p)
		}
		if n >= 8 {
			if seen[p] {
				t.Fatalf("RandomPassword(%d) repeated %q", n, p)
			}
			seen[p] = true
		}
	}
	if strings.ContainsAny(passwordAlphabet, "0O1lIo") {
		t.Fatal("alphabet holds ambiguous characters")
	}
}

func TestRandomPasswordPanicsOnZero(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("RandomPassword(0) did not panic")
		}
	}()
	RandomPassword(0)
}

func TestRandomIndexCoversAlphabet(t *testing.T) {
	counts := make([]int, len(passwordAlphabet))
	for range 20000 {
		counts[randIndex(len(passwordAlphabet))]++
	}
	for i, c := range counts {
		// Expected ~357 each; 150 is far below any plausible fluctuation.
		if c < 150 {
			t.Errorf("index %d drawn %d times out of 20000", i, c)
		}
	}
}

func TestRandomToken(t *testing.T) {
	a, b := RandomToken(), RandomToken()
	if a == b {
		t.Fatal("two tokens are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 || len(a) != 43 {
		t.Fatalf("token %q: %d bytes, err %v", a, len(raw), err)
	}
}
