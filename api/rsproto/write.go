package rsproto

import (
	"encoding/json"
	"net/http"
	"strconv"

	"hostdeck/api/httpx"
)

// BaseURL is the face's root as the client addresses it: scheme, host and mount
// prefix (the links of Keystone and Nova answers, and the cloud_url of the
// licence error).
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + httpx.URLPath(r, "")
}

// WriteJSON sends v as application/json. A 204, or a nil v, is sent without a
// body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent || v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only a face bug (an unencodable value) gets here: error 1.
		b, status = []byte(`{"error":{"code":1,"message":"internal error"}}`), http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
