package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testBox(t *testing.T) *Box {
	t.Helper()
	b, err := NewBox(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBoxRoundTrip(t *testing.T) {
	b := testBox(t)
	for _, plain := range [][]byte{nil, []byte("x"), []byte("Пароль-владельца 42"), bytes.Repeat([]byte("a"), 10000)} {
		sealed := b.Seal(plain)
		// Short plaintexts turn up in random bytes by chance; only longer ones tell.
		if len(plain) >= 8 && bytes.Contains(sealed, plain) {
			t.Fatal("sealed data contains the plaintext")
		}
		got, err := b.Open(sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
	}
	if bytes.Equal(b.Seal([]byte("same")), b.Seal([]byte("same"))) {
		t.Fatal("two seals of one plaintext are equal: nonce not random")
	}
}

func TestBoxTampered(t *testing.T) {
	b := testBox(t)
	sealed := b.Seal([]byte("owner password"))
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := b.Open(bad); !errors.Is(err, ErrOpen) {
			t.Fatalf("flipped byte %d: err = %v, want ErrOpen", i, err)
		}
	}
	for _, bad := range [][]byte{nil, sealed[:5], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		if _, err := b.Open(bad); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open(%d bytes): err = %v, want ErrOpen", len(bad), err)
		}
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key: err = %v, want ErrOpen", err)
	}
}

func TestBoxConcurrent(t *testing.T) {
	b := testBox(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				p := []byte(RandomPassword(12))
				got, err := b.Open(b.Seal(p))
				if err != nil || !bytes.Equal(got, p) {
					t.Errorf("round trip failed: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewBoxKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox(%d-byte key): no error", n)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, s := range []string{
		hex.EncodeToString(key),
		strings.ToUpper(hex.EncodeToString(key)),
		" " + hex.EncodeToString(key) + "\n",
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
	} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{
		"",
		hex.EncodeToString(key[:31]),
		hex.EncodeToString(key)[:63] + "g",
		base64.StdEncoding.EncodeToString(key[:16]),
		base64.StdEncoding.EncodeToString(append(key, 1)),
		"not a key at all",
	} {
		_, err := ParseKey(s)
		if err == nil {
			t.Errorf("ParseKey(%q): no error", s)
			continue
		}
		if s != "" && len(s) > 8 && strings.Contains(err.Error(), s) {
			t.Errorf("ParseKey error repeats the key: %v", err)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "box.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize {
		t.Fatalf("key has %d bytes", len(k1))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %o, want 600", perm)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %o, want 700", di.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if strings.TrimSpace(string(data)) != hex.EncodeToString(k1) {
		t.Fatalf("file holds %q, want hex of the key", data)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load = %x, %v; want the same key", k2, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key (temp file left?)", len(entries))
	}
}

func TestLoadOrCreateKeyExisting(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{0xab}, KeySize)
	b64 := filepath.Join(dir, "b64.key")
	os.WriteFile(b64, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
	if got, err := LoadOrCreateKey(b64); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("base64 file: %x, %v", got, err)
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(bad); err == nil {
		t.Fatal("malformed key file: no error")
	}
	if data, _ := os.ReadFile(bad); string(data) != "short" {
		t.Fatal("malformed key file was overwritten")
	}
}

func TestLoadOrCreateKeyRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent creators returned different keys")
		}
	}
}
