package httpx

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// WriteJSON sends v as plain application/json, for faces whose dialect is not
// JSON:API. A 204, or a nil v, is sent without a body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent || v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only a face bug (an unencodable value) gets here.
		b, status = []byte(`{"error":{"code":1,"message":"internal error"}}`), http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// RecordError notes err for the request's log line when a face writes its own
// error envelope instead of returning the error to the router.
func RecordError(r *http.Request, err error) {
	if rec := recordFrom(r.Context()); rec != nil {
		rec.err = err
	}
}
