package httpx_test

import (
	"net/http/httptest"
	"testing"

	"hostdeck/api/httpx"
)

func TestPrefers(t *testing.T) {
	for _, c := range []struct {
		header, lang string
		want         bool
	}{
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh", true},
		{"en-US,zh;q=0.5", "zh", false},
		{"en;q=0.4, ru;q=0.9", "ru", true},
		{"ZH", "zh", true},
		{"rus", "ru", false},
		{"", "zh", false},
		{"zh;q=0.5,en;q=0.5", "zh", true}, // the first of equals
		{"zh;q=abc", "zh", true},          // an unreadable quality is 1
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Accept-Language", c.header)
		}
		if got := httpx.Prefers(r, c.lang); got != c.want {
			t.Errorf("Prefers(%q, %q) = %v, want %v", c.header, c.lang, got, c.want)
		}
	}
}
