package satellite

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/internal/testenv"
)

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1TiB", 1 << 40}, {"50GB", 50_000_000_000}, {"1MB", 1_000_000}, {"1mb", 1_000_000}, {"1.5 KiB", 1536},
		{"1000", 1000}, {"12 B", 12}, {"0", 0}, {"-1GB", -1_000_000_000}, {" 2 TB ", 2_000_000_000_000}, {"8EiB", -1},
	} {
		got, err := ParseSize(tc.in)
		if tc.want == -1 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an overflow error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GB", "1XB", "1e3", "1/2", "one", "1..2GB", "--1"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.00 KB"}, {50_000_000_000, "50.00 GB"}, {1_000_000_000_000, "1.00 TB"},
		{1 << 40, "1.0 TiB"}, {1 << 20, "1.0 MiB"}, {1536, "1.5 KiB"}, {1023, "1023 B"}, {-2_000_000, "-2.00 MB"},
	} {
		if got := FormatSize(tc.in); got != tc.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzDecode feeds arbitrary bodies to every JSON request decoder and query
// strings to the limit parser: errors are 400s of the face, never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"email":"alice@mail.test","fullName":"Alice Test","password":"password"}`,
		`{"userId":"12345678-1234-1234-1234-123456789abc","duration":2,"amount":3000,"description":"x"}`,
		`{"ownerId":"ca7aa0fb-442a-4d4e-aa36-a49abddae837","projectName":"My Second Project"}`,
		`{"projectLimit":200}`, `{"amount":1e99}`, `[]`, `null`, `"x"`, `{`, ``,
		"usage=1TiB&bandwidth=50GB&rate=5&buckets=3", "usage=-1", "rate=99999999999999999999", "usage=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{&userInput{}, &couponInput{}, &projectInput{}} {
			err := decodeBytes([]byte(s), v)
			if err == nil {
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("decode %q: %v", s, err)
			}
		}
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		if _, err := parseLimits(q); err != nil {
			if st, _, _ := statusOf(err); st != http.StatusBadRequest {
				t.Fatalf("limits %q: %v", s, err)
			}
		}
	})
}

// FuzzSize checks that every size that parses also renders.
func FuzzSize(f *testing.F) {
	for _, s := range []string{"1TiB", "50GB", "1.5 MB", "-3", "9223372036854775807", "0.0000001 EB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if out := FormatSize(n); out == "" || !strings.Contains(out, "B") {
			t.Fatalf("FormatSize(%d) = %q", n, out)
		}
	})
}

// FuzzHandler sends arbitrary methods, paths and bodies through the whole face
// over a real core: every answer is a status below 500 with the face's bodies.
func FuzzHandler(f *testing.F) {
	env := testenv.NewWith(f, testenv.Options{Config: core.Config{OperatorToken: "t"}})
	h := NewHandler(env.Tenancy, env.Billing, env.Quota, env.Login, Options{})
	f.Add("POST", "/api/user", `{"email":"a@b.test","password":"password"}`)
	f.Add("POST", "/api/coupon", `{"userId":"x","duration":1,"amount":1,"description":"d"}`)
	f.Add("PUT", "/api/project/0190b6c4-6d5a-7000-8000-0000000000ff/limit?usage=1GB", "")
	f.Add("GET", "/api/user/%zz", "")
	f.Add("DELETE", "/api/coupon/../../x", "")
	f.Add("PUT", "/api/user/a@b.test", `{"projectLimit":-5}`)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if _, err := url.ParseRequestURI(path); err != nil || len(method) == 0 || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		r := httptest.NewRequest("GET", "/", strings.NewReader(body))
		r.Method = method
		u, _ := url.ParseRequestURI(path)
		r.URL, r.RequestURI = u, path
		r.Header.Set("Authorization", "t")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e) != 2 {
				t.Fatalf("%s %s: error body %q", method, path, w.Body)
			}
		}
	})
}
