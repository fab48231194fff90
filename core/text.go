package core

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every text hostdeck stores has a maximum length, and names hold no control
// characters: the rules are here, once, for every use case and face.
const (
	MaxNameLen  = 255  // names: users, groups, projects, servers, clients, images, …
	MaxEmailLen = 254  // RFC 5321's longest address
	MaxTextLen  = 4096 // descriptions and other free text
	MaxRefLen   = 1024 // addresses, image references, URLs
)

// CheckName refuses an empty name, one of more than max characters, invalid
// UTF-8, and control characters (NUL, CR, LF, DEL, …) or line separators, as
// KindInvalid about field.
func CheckName(field, v string, max int) error {
	if v == "" {
		return Invalid(field, "%s must not be empty", field)
	}
	return CheckLine(field, v, max)
}

// CheckLine is CheckName for a one-line value that may be empty (an
// address, a phone number, a location).
func CheckLine(field, v string, max int) error {
	return checkRunes(field, v, max, isNameBreaking)
}

// CheckText refuses free text (a description) of more than max characters,
// invalid UTF-8, and control characters other than tab, CR and LF. Empty text
// is fine.
func CheckText(field, v string, max int) error {
	return checkRunes(field, v, max, func(r rune) bool {
		return r != '\t' && r != '\n' && r != '\r' && isNameBreaking(r)
	})
}

func checkRunes(field, v string, max int, bad func(rune) bool) error {
	if !utf8.ValidString(v) {
		return Invalid(field, "%s must be valid UTF-8 text", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return Invalid(field, "%s is %d characters long; at most %d are allowed", field, n, max)
	}
	if i := strings.IndexFunc(v, bad); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return Invalid(field, "%s must not contain control characters (found %U at byte %d)", field, r, i)
	}
	return nil
}

// isNameBreaking reports a character that may not appear in a name: control
// characters and the Unicode line and paragraph separators.
func isNameBreaking(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// CheckOptional applies check to *v when v is set.
func CheckOptional(v *string, check func(string) error) error {
	if v == nil {
		return nil
	}
	return check(*v)
}

// maxLogText is how much of a client's text a log line keeps.
const maxLogText = 64

// LogText is v as a log line may carry it: at most maxLogText bytes of valid
// UTF-8, marked when cut.
func LogText(v string) string {
	if len(v) <= maxLogText {
		return strings.ToValidUTF8(v, "?")
	}
	cut := maxLogText
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strings.ToValidUTF8(v[:cut], "?") + "…"
}
