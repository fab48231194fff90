package jsonapi

import (
	"mime"
	"net/http"
	"strings"
)

// CheckContentType enforces JSON:API's rule for request bodies: the media type must
// be application/vnd.api+json without parameters other than ext and profile (415
// otherwise). hostdeck applies no extension, so any ext parameter is also 415.
//
// For friendliness, plain application/json (with any parameters, e.g. charset) is
// accepted too: curl users and simple admin frontends send it, and the body is
// parsed by the same strict rules.
func CheckContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return unsupported("Content-Type must be %s", MediaType)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return unsupported("Content-Type %q cannot be parsed", ct)
	}
	switch mt {
	case "application/json":
		return nil
	case MediaType:
		for k := range params {
			switch k {
			case "profile":
			case "ext":
				return unsupported("the JSON:API extension %q is not supported", params[k])
			default:
				return unsupported("media type parameter %q is not allowed with %s", k, MediaType)
			}
		}
		return nil
	}
	return unsupported("Content-Type must be %s, not %s", MediaType, mt)
}

func unsupported(format string, args ...any) *Error {
	return headerError(http.StatusUnsupportedMediaType, "Content-Type", format, args...)
}

// CheckAccept enforces JSON:API's rule for Accept: when the header names the
// JSON:API media type and every such instance carries parameters other than
// profile (or an ext, as hostdeck applies none), the answer is 406. An Accept that
// does not name the JSON:API media type at all is not refused: every answer is
// JSON:API, and clients that ask for */* or application/json get it.
func CheckAccept(r *http.Request) error {
	seen, ok := false, false
	for _, h := range r.Header.Values("Accept") {
		for _, rng := range splitQuoted(h, ',') {
			rng = strings.TrimSpace(rng)
			if rng == "" {
				continue
			}
			parts := splitQuoted(rng, ';')
			if !strings.EqualFold(strings.TrimSpace(parts[0]), MediaType) {
				continue
			}
			seen = true
			plain := true
			for _, p := range parts[1:] {
				name, _, _ := strings.Cut(p, "=")
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "profile", "q", "":
				default: // ext included: no extension is supported
					plain = false
				}
			}
			ok = ok || plain
		}
	}
	if seen && !ok {
		return headerError(http.StatusNotAcceptable, "Accept", "every %s in Accept carries media type parameters other than profile", MediaType)
	}
	return nil
}

// splitQuoted splits s on sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
