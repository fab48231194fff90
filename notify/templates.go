package notify

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Languages are the languages e-mails are written in. A client whose Lang is
// empty or not one of these gets the first, Russian: the product is Russian-first.
var Languages = []string{"ru", "en"}

// kinds of e-mail, named as their template files are.
const (
	kindReady    = "client_ready"
	kindExpiring = "client_expiring"
	kindReset    = "password_reset" // English only: users have no language
)

// dateLayouts are how each language writes a date.
var dateLayouts = map[string]string{"ru": "02.01.2006", "en": "2006-01-02"}

var templates = parseTemplates()

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{"plural": pluralRU}
	m := map[string]*template.Template{}
	parse := func(kind, lang string) {
		name := kind + "." + lang + ".tmpl"
		m[kind+"."+lang] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/"+name))
	}
	for _, kind := range []string{kindReady, kindExpiring} {
		for _, lang := range Languages {
			parse(kind, lang)
		}
	}
	parse(kindReset, "en")
	return m
}

// language picks the language of a client's e-mails from its Lang ("en", "en-US"
// and "EN" are English; anything else is Russian).
func language(lang string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "en") {
		return "en"
	}
	return "ru"
}

// data is what the templates see.
type data struct {
	Name     string
	URL      string // the cloud's address, or a password reset link
	Login    string
	Password string
	Date     string // the expiry date in the language's layout (a reset link's: date and time)
	DaysLeft int    // whole days from today to the expiry date
	Expired  bool   // the expiry date has passed
}

// render renders the subject and plain-text body of one kind of e-mail.
func render(kind, lang string, d data) (subject, body string, err error) {
	t := templates[kind+"."+lang]
	if t == nil {
		return "", "", fmt.Errorf("no template %s.%s", kind, lang)
	}
	var s, b bytes.Buffer
	if err := t.ExecuteTemplate(&s, "subject", d); err != nil {
		return "", "", fmt.Errorf("render %s.%s subject: %w", kind, lang, err)
	}
	if err := t.ExecuteTemplate(&b, "body", d); err != nil {
		return "", "", fmt.Errorf("render %s.%s body: %w", kind, lang, err)
	}
	// A header cannot hold a line break; a name with one must not forge headers.
	subject = strings.Join(strings.Fields(s.String()), " ")
	return subject, b.String(), nil
}

// daysLeft counts calendar days from the date of now (in loc) to the date
// expire names. expire is a date stored as UTC midnight, so its UTC fields name it.
func daysLeft(now time.Time, loc *time.Location, expire time.Time) int {
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	e := expire.UTC()
	day := time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, time.UTC)
	return int(day.Sub(today).Hours() / 24)
}

// pluralRU picks the Russian word form for n: one (1, 21), few (2–4, 22–24) or
// many (5–20, 25…).
func pluralRU(n int, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch {
	case n%10 == 1 && n%100 != 11:
		return one
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return few
	}
	return many
}
