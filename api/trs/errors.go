package trs

import (
	"errors"
	"net/http"

	"hostdeck/api/httpx"
	"hostdeck/api/rsproto"
	"hostdeck/core"
)

// writeError is the face's one error renderer (its httpx.ErrorWriter): Keystone's
// shape under /v3 and at /, the TRS envelope (rsproto) elsewhere.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if keystonePath(r) {
		writeKeystoneError(w, r, err)
		return
	}
	rsproto.WriteError(w, r, err)
}

// keystoneError is Keystone's error body.
type keystoneError struct {
	Error struct {
		Code    int    `json:"code"`
		Title   string `json:"title"`
		Message string `json:"message"`
	} `json:"error"`
}

// keystoneStatus maps an error to the HTTP status Keystone would answer.
func keystoneStatus(err error) int {
	var he *httpx.Error
	if errors.As(err, &he) {
		if he.Status == http.StatusRequestEntityTooLarge || he.Status == http.StatusUnsupportedMediaType {
			return http.StatusBadRequest
		}
		return he.Status
	}
	return httpx.StatusOf(core.ErrorKind(err))
}

// writeKeystoneError sends err as Keystone does: its status and
// {"error": {"code", "title", "message"}}; a 401 carries WWW-Authenticate.
func writeKeystoneError(w http.ResponseWriter, r *http.Request, err error) {
	status := keystoneStatus(err)
	var body keystoneError
	body.Error.Code, body.Error.Title = status, http.StatusText(status)
	body.Error.Message = rsproto.Detail(err)
	if body.Error.Message == "" {
		body.Error.Message = "An unexpected error prevented the server from fulfilling your request."
	}
	if status == http.StatusUnauthorized {
		body.Error.Message = "The request you have made requires authentication."
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+rsproto.BaseURL(r)+`"`)
	}
	rsproto.WriteJSON(w, status, body)
}
