package jsonapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hostdeck/api/httpx"
)

// Body is a decoded JSON:API request document whose primary data is one resource
// object. Its typed getters read attributes and record an error, with the
// attribute's pointer, for a value of the wrong type; Finish reports those and any
// attribute no getter asked for.
type Body struct {
	Type  string
	ID    string
	HasID bool

	attrs map[string]json.RawMessage
	rels  map[string]json.RawMessage
	used  map[string]bool // attributes read
	usedR map[string]bool // relationships read
	errs  []ErrorObject
}

// Decode reads r's body as a JSON:API document with a single resource object as
// primary data. Errors are *Error: 415 for a wrong Content-Type, 400 with
// source.pointer for malformed JSON or a wrong shape; a body over httpx.MaxBody
// is httpx's 413.
func Decode(r *http.Request) (*Body, error) {
	if err := CheckContentType(r); err != nil {
		return nil, err
	}
	raw, err := httpx.ReadBody(r)
	if err != nil {
		return nil, err
	}
	return DecodeBytes(raw)
}

// DecodeBytes parses a request document (see Decode).
func DecodeBytes(raw []byte) (*Body, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, Errorf(http.StatusBadRequest, "request body is empty; a JSON:API document is required")
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(raw, &top); err != nil {
		return nil, PointerError(http.StatusBadRequest, "", "request body is not a JSON object: %s", err)
	}
	if ptr, key, ok := duplicateKey(raw); ok {
		return nil, PointerError(http.StatusBadRequest, ptr, "member %q appears twice in the same object", key)
	}
	if top == nil {
		return nil, PointerError(http.StatusBadRequest, "", "request body must be a JSON object")
	}
	for k := range top {
		switch k {
		case "data", "meta", "jsonapi", "links":
		default:
			return nil, PointerError(http.StatusBadRequest, "/"+escapePointer(k), "unknown top-level member %q", k)
		}
	}
	data, ok := top["data"]
	if !ok {
		return nil, PointerError(http.StatusBadRequest, "/data", "the document has no primary data (\"data\")")
	}
	var res map[string]json.RawMessage
	if !isObject(data) || json.Unmarshal(data, &res) != nil {
		return nil, PointerError(http.StatusBadRequest, "/data", "primary data must be a resource object")
	}
	b := &Body{used: map[string]bool{}, usedR: map[string]bool{}}
	for k, v := range res {
		ptr := "/data/" + escapePointer(k)
		switch k {
		case "type":
			if json.Unmarshal(v, &b.Type) != nil || isNull(v) {
				return nil, PointerError(http.StatusBadRequest, ptr, "type must be a string")
			}
		case "id":
			if json.Unmarshal(v, &b.ID) != nil || isNull(v) {
				return nil, PointerError(http.StatusBadRequest, ptr, "id must be a string")
			}
			b.HasID = true
		case "attributes":
			if !isObject(v) || json.Unmarshal(v, &b.attrs) != nil {
				return nil, PointerError(http.StatusBadRequest, ptr, "attributes must be an object")
			}
		case "relationships":
			if !isObject(v) || json.Unmarshal(v, &b.rels) != nil {
				return nil, PointerError(http.StatusBadRequest, ptr, "relationships must be an object")
			}
		case "meta", "links", "lid":
		default:
			return nil, PointerError(http.StatusBadRequest, ptr, "unknown member %q of a resource object", k)
		}
	}
	if b.Type == "" {
		return nil, PointerError(http.StatusBadRequest, "/data/type", "the resource object has no type")
	}
	return b, nil
}

// strictUnmarshal decodes exactly one JSON value and rejects anything after it.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errors.New("malformed JSON")
		case errors.As(err, &te):
			return errors.New("a JSON " + te.Value + " was sent")
		}
		return errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

// duplicateKey finds the first member name that appears twice in one object of
// raw (valid JSON), and the JSON Pointer of that member. encoding/json keeps the
// last value of a repeated name silently; a strict body refuses it.
func duplicateKey(raw []byte) (pointer, key string, found bool) {
	type frame struct {
		object  bool
		keys    map[string]bool
		path    string
		wantKey bool // in an object: the next token is a member name
		index   int  // in an array: the next element's index
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	child := "" // path of the value about to be read
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
			if top.object && top.wantKey {
				if d, ok := tok.(json.Delim); !ok || d != '}' {
					k, _ := tok.(string)
					child = top.path + "/" + escapePointer(k)
					if top.keys[k] {
						return child, k, true
					}
					top.keys[k] = true
					top.wantKey = false
					continue
				}
			}
			if !top.object {
				child = top.path + "/" + strconv.Itoa(top.index)
			}
		}
		d, isDelim := tok.(json.Delim)
		switch {
		case isDelim && (d == '{' || d == '['):
			stack = append(stack, &frame{object: d == '{', keys: map[string]bool{}, path: child, wantKey: d == '{'})
			continue
		case isDelim: // '}' or ']': the container was a value of its parent
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return "", "", false
			}
			top = stack[len(stack)-1]
		}
		if top == nil {
			return "", "", false
		}
		if top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// CheckType requires the resource object's type to be want: a different type is
// 409, as JSON:API asks.
func (b *Body) CheckType(want string) error {
	if b.Type != want {
		return PointerError(http.StatusConflict, "/data/type", "type must be %q, not %q", want, b.Type)
	}
	return nil
}

// CheckID requires an id, when the body has one, to be the id in the path (409).
func (b *Body) CheckID(pathID string) error {
	if b.HasID && b.ID != pathID {
		return PointerError(http.StatusConflict, "/data/id", "id %q does not match the id in the path", b.ID)
	}
	return nil
}

// NoID refuses a client-generated id (403, as JSON:API asks of servers that do not
// support them).
func (b *Body) NoID() error {
	if b.HasID {
		return PointerError(http.StatusForbidden, "/data/id", "client-generated ids are not supported")
	}
	return nil
}

// Has reports whether the attribute is present (null included).
func (b *Body) Has(name string) bool {
	_, ok := b.attrs[name]
	return ok
}

func (b *Body) get(name string) (json.RawMessage, bool) {
	v, ok := b.attrs[name]
	if ok {
		b.used[name] = true
	}
	return v, ok
}

// Fail records an error about the attribute name.
func (b *Body) Fail(name, detail string) {
	b.used[name] = true
	o := Object(http.StatusBadRequest, detail)
	o.Source = &Source{Pointer: AttributePointer(name)}
	b.errs = append(b.errs, o)
}

// Reject records an error if the attribute is present: it is known but cannot be
// set through this endpoint.
func (b *Body) Reject(name, detail string) {
	if _, ok := b.get(name); ok {
		b.Fail(name, detail)
	}
}

// String reads a string attribute; nil when absent.
func (b *Body) String(name string) *string {
	v, ok := b.get(name)
	if !ok {
		return nil
	}
	var s string
	if isNull(v) || json.Unmarshal(v, &s) != nil {
		b.Fail(name, name+" must be a string")
		return nil
	}
	return &s
}

// Int reads an integer attribute; nil when absent.
func (b *Body) Int(name string) *int {
	v, ok := b.get(name)
	if !ok {
		return nil
	}
	var f float64
	if isNull(v) || json.Unmarshal(v, &f) != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		b.Fail(name, name+" must be an integer")
		return nil
	}
	n := int(f)
	return &n
}

// Bool reads a boolean attribute; nil when absent.
func (b *Body) Bool(name string) *bool {
	v, ok := b.get(name)
	if !ok {
		return nil
	}
	var x bool
	if isNull(v) || json.Unmarshal(v, &x) != nil {
		b.Fail(name, name+" must be true or false")
		return nil
	}
	return &x
}

// NullableDate reads a date attribute given as "YYYY-MM-DD" or an RFC 3339 time, or
// null. It returns nil when absent and a pointer to nil for null.
func (b *Body) NullableDate(name string) **time.Time {
	v, ok := b.get(name)
	if !ok {
		return nil
	}
	if isNull(v) {
		var t *time.Time
		return &t
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		for _, layout := range []string{time.DateOnly, time.RFC3339Nano} {
			if t, err := time.Parse(layout, s); err == nil {
				tp := &t
				return &tp
			}
		}
	}
	b.Fail(name, name+` must be a date ("YYYY-MM-DD" or RFC 3339) or null`)
	return nil
}

// RelationshipID reads the id of a to-one relationship of type typ; nil when the
// relationship is absent or null.
func (b *Body) RelationshipID(name, typ string) *string {
	v, ok := b.rels[name]
	if !ok {
		return nil
	}
	b.usedR[name] = true
	ptr := "/data/relationships/" + escapePointer(name)
	var rel struct {
		Data *Identifier `json:"data"`
	}
	if !isObject(v) || json.Unmarshal(v, &rel) != nil {
		b.errs = append(b.errs, pointerObject(ptr, "relationship "+name+" must be an object with data"))
		return nil
	}
	if rel.Data == nil {
		return nil
	}
	if rel.Data.Type != typ || rel.Data.ID == "" {
		b.errs = append(b.errs, pointerObject(ptr+"/data", "relationship "+name+" must identify a resource of type "+typ))
		return nil
	}
	return &rel.Data.ID
}

func pointerObject(ptr, detail string) ErrorObject {
	o := Object(http.StatusBadRequest, detail)
	o.Source = &Source{Pointer: ptr}
	return o
}

// Finish reports every recorded error and every attribute or relationship that no
// getter read (unknown), as one 400 whose objects point at each; nil when the body
// was well-formed.
func (b *Body) Finish() error {
	var unknown []string
	for k := range b.attrs {
		if !b.used[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		b.errs = append(b.errs, pointerObject(AttributePointer(k), "unknown attribute "+k))
	}
	var unknownRels []string
	for k := range b.rels {
		if !b.usedR[k] {
			unknownRels = append(unknownRels, k)
		}
	}
	slices.Sort(unknownRels)
	for _, k := range unknownRels {
		b.errs = append(b.errs, pointerObject("/data/relationships/"+escapePointer(k), "unknown relationship "+k))
	}
	if len(b.errs) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Objects: b.errs}
}
