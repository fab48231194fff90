package trs

import (
	"net/http"

	"hostdeck/core"
)

// What the broker face (api/broker) shares with this one: the TRS error envelope,
// the body decoder and the Nova view of an instance state. They are exported here
// rather than moved, so that the catalogue stays in one place.

// WriteError sends err in the TRS envelope (HTTP 400, the catalogue's code, the
// message in the client's language).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { writeTRSError(w, r, err) }

// Decode reads the request body as one JSON value into v; a bad body is
// KindInvalid (code 9).
func Decode(r *http.Request, v any) error { return decode(r, v) }

// NovaState is the Nova status, vm_state, task_state and power_state of an
// instance state.
func NovaState(s core.InstanceState) (status, vm string, task any, power int) { return novaState(s) }
