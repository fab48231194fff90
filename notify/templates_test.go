package notify

import (
	"strings"
	"testing"
	"time"
)

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{"": "ru", "ru": "ru", "RU": "ru", "en": "en", "EN": "en", "en-GB": "en", " en ": "en", "de": "ru", "kk": "ru"} {
		if got := language(in); got != want {
			t.Errorf("language(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPluralRU(t *testing.T) {
	for n, want := range map[int]string{0: "дней", 1: "день", 2: "дня", 4: "дня", 5: "дней", 11: "дней", 12: "дней", 14: "дней", 21: "день", 22: "дня", 25: "дней", 101: "день", 111: "дней", 112: "дней", 122: "дня"} {
		if got := pluralRU(n, "день", "дня", "дней"); got != want {
			t.Errorf("pluralRU(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDaysLeft(t *testing.T) {
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	msk := time.FixedZone("MSK", 3*3600)
	for _, tc := range []struct {
		now  time.Time
		loc  *time.Location
		want int
	}{
		{time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), time.UTC, 7},
		{time.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC), time.UTC, 7},
		{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), time.UTC, 0},
		{time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.UTC, -2},
		{time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC), msk, 0},
		{time.Date(2026, 11, 30, 20, 59, 0, 0, time.UTC), msk, 1},
		{time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), time.UTC, 248}, // across DST changes elsewhere
	} {
		if got := daysLeft(tc.now, tc.loc, exp); got != tc.want {
			t.Errorf("daysLeft(%v in %v) = %d, want %d", tc.now, tc.loc, got, tc.want)
		}
	}
}

func TestRenderExpiring(t *testing.T) {
	for _, tc := range []struct {
		lang string
		d    data
		subj string
		body string
	}{
		{"ru", data{Date: "01.12.2026", DaysLeft: 1}, "Срок действия вашего облака истекает 01.12.2026", "через 1 день."},
		{"ru", data{Date: "01.12.2026", DaysLeft: 3}, "Срок действия вашего облака истекает 01.12.2026", "через 3 дня."},
		{"ru", data{Date: "01.12.2026", DaysLeft: 21}, "Срок действия вашего облака истекает 01.12.2026", "через 21 день."},
		{"ru", data{Date: "01.12.2026", DaysLeft: 0}, "Срок действия вашего облака истекает 01.12.2026", "истекает сегодня, 01.12.2026."},
		{"ru", data{Date: "01.12.2026", DaysLeft: -2, Expired: true}, "Срок действия вашего облака истёк 01.12.2026", "истёк 01.12.2026."},
		{"en", data{Date: "2026-12-01", DaysLeft: 1}, "Your cloud expires on 2026-12-01", "in 1 day."},
		{"en", data{Date: "2026-12-01", DaysLeft: 30}, "Your cloud expires on 2026-12-01", "in 30 days."},
		{"en", data{Date: "2026-12-01", DaysLeft: 0}, "Your cloud expires on 2026-12-01", "expires today, 2026-12-01."},
		{"en", data{Date: "2026-12-01", DaysLeft: -1, Expired: true}, "Your cloud expired on 2026-12-01", "expired on 2026-12-01."},
	} {
		subj, body, err := render(kindExpiring, tc.lang, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if subj != tc.subj || !strings.Contains(body, tc.body) {
			t.Errorf("%s %+v: subject %q, body:\n%s\nwant subject %q, body with %q", tc.lang, tc.d, subj, body, tc.subj, tc.body)
		}
	}
}

func TestRenderAllTemplates(t *testing.T) {
	for _, kind := range []string{kindReady, kindExpiring} {
		for _, lang := range Languages {
			subj, body, err := render(kind, lang, data{Name: "N", URL: "U", Login: "L", Password: "P", Date: "D", DaysLeft: 2})
			if err != nil || subj == "" || body == "" {
				t.Errorf("%s.%s: %q, %q, %v", kind, lang, subj, body, err)
			}
			if strings.HasPrefix(body, "\n") || !strings.HasSuffix(body, "\n") || strings.Contains(body, "\n\n\n") {
				t.Errorf("%s.%s: untidy body %q", kind, lang, body)
			}
		}
	}
	// Without a name the greeting has no dangling comma.
	_, body, _ := render(kindReady, "en", data{})
	if !strings.HasPrefix(body, "Hello!\n") {
		t.Errorf("greeting without a name: %q", body)
	}
	// A subject can never carry a line break into the headers.
	if subj, _, _ := render(kindExpiring, "en", data{Date: "x\r\nBcc: evil@example.com"}); strings.ContainsAny(subj, "\r\n") {
		t.Errorf("subject holds a line break: %q", subj)
	}
}
