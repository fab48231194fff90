package httpx

import (
	"net/http"
	"strconv"
	"strings"
)

// Prefers reports whether the language r's client prefers most (the
// Accept-Language range of highest quality, the first of equals) is lang or
// one of its variants: Prefers(r, "zh") for "zh-CN,zh;q=0.9,en;q=0.8".
func Prefers(r *http.Request, lang string) bool {
	best, bestQ := "", -1.0
	for _, h := range r.Header.Values("Accept-Language") {
		for _, part := range strings.Split(h, ",") {
			tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
			if tag != "" && q > bestQ {
				best, bestQ = strings.ToLower(tag), q
			}
		}
	}
	return best == lang || strings.HasPrefix(best, lang+"-")
}
