package rsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// Decode reads the request body as exactly one JSON value into v (a pointer to
// a struct whose optional members are pointers). Malformed JSON, trailing data,
// a value of the wrong type, an empty body are KindInvalid errors, an oversized
// or unreadable one an *httpx.Error: code 9 in the TRS envelope, 400 under
// Keystone. Unknown members are ignored, as Keystone and the document's clients
// send more than hostdeck reads.
func Decode(r *http.Request, v any) error {
	raw, err := httpx.ReadBody(r)
	if err != nil {
		return err
	}
	return DecodeBytes(raw, v)
}

// DecodeBytes is Decode on a body already read.
func DecodeBytes(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return core.Errorf(core.KindInvalid, "request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return core.Errorf(core.KindInvalid, "malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te) && te.Field == "":
			return core.Errorf(core.KindInvalid, "request body must be a JSON object, not a JSON %s", te.Value)
		case errors.As(err, &te):
			return core.Invalid(te.Field, "%s must be %s, not a JSON %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return core.Errorf(core.KindInvalid, "malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return core.Errorf(core.KindInvalid, "data after the JSON document")
	}
	return nil
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
