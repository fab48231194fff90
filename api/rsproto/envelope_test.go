package rsproto

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/login"
)

func TestCatalogueIsComplete(t *testing.T) {
	if got := codes(); len(got) != 28 || got[0] != 1 || got[27] != 28 {
		t.Fatalf("codes = %v, want 1..28 (27 of the document, 28 hostdeck's)", got)
	}
	for code, c := range catalogue {
		if c.Code != code || c.DescEN == "" || c.DescRU == "" {
			t.Errorf("code %d: %+v", code, c)
		}
		if (c.MessageEN == "") != (c.MessageRU == "") {
			t.Errorf("code %d has a client message in one language only", code)
		}
	}
	for reason, code := range reasonCodes {
		if _, ok := catalogue[code]; !ok {
			t.Errorf("reason %s maps to unknown code %d", reason, code)
		}
	}
}

func TestEnvelopeFor(t *testing.T) {
	quota := core.Reasoned(core.KindConflict, "quota_exceeded", "quota", "project_name", "c70379f3")
	cases := []struct {
		err      error
		lang     string
		code     int
		message  string
		dataKeys []string
	}{
		{quota, "", 12, "Quota exceeded for TRS project «c70379f3». Please contact system administrator.", []string{"project_name", "detail"}},
		{quota, "ru", 12, "Превышена квота для TRS проекта «c70379f3». Обратитесь к системному администратору.", []string{"project_name"}},
		{core.Reasoned(core.KindNotFound, core.ReasonUserNotFound, "no", "user_name", "bob", "domain_name", "lab"), "en", 16, "User bob not found in domain lab.", nil},
		{core.Reasoned(core.KindUnauthenticated, core.ReasonDomainNotFound, "no", "domain_name", "lab"), "ru-RU", 15, "Домен lab не найден.", nil},
		{core.Invalid("name", "name is required"), "", 9, "Invalid request body.", []string{"detail"}},
		{core.Invalid("name", "name is required"), "ru", 9, "Неверное тело запроса.", nil},
		{core.NotFound("task", "x"), "", 9, "Invalid request body.", nil},
		{core.Errorf(core.KindForbidden, "no"), "", 6, "Invalid credentials. Please contact system administrator.", nil},
		{core.Reasoned(core.KindUnauthenticated, login.ReasonTokenExpired, "expired"), "", 24, "Unexpected error occurred. Please contact system administrator.", nil},
		{core.Reasoned(core.KindInvalid, "otp_required", "otp"), "ru", 27, "Для аутентификации требуется код OTP.", nil},
		{errors.New("db is on fire"), "", 1, "Unexpected error occurred. Please contact system administrator.", nil},
		{httpx.Errorf(404, "no such route"), "", 9, "Invalid request body.", []string{"detail"}},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/v1/info", nil)
		if tc.lang != "" {
			r.Header.Set("Accept-Language", tc.lang)
		}
		env := envelopeFor(r, tc.err)
		if env.Error.Code != tc.code || env.Error.Message != tc.message {
			t.Errorf("%v (%s): got %d %q, want %d %q", tc.err, tc.lang, env.Error.Code, env.Error.Message, tc.code, tc.message)
		}
		for _, k := range tc.dataKeys {
			if _, ok := env.Error.Data[k]; !ok {
				t.Errorf("%v: data %v lacks %s", tc.err, env.Error.Data, k)
			}
		}
		if tc.code == 1 && strings.Contains(env.Error.Data["detail"], "fire") {
			t.Errorf("internal detail leaked: %v", env.Error.Data)
		}
	}
}
