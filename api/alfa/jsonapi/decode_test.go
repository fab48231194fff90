package jsonapi

import (
	"errors"
	"net/http"
	"testing"
)

// A strict body refuses a member name given twice in one object, wherever it
// is, with the pointer of the second one (encoding/json alone keeps the last).
func TestDecodeRefusesDuplicateMembers(t *testing.T) {
	for _, tc := range []struct {
		body, pointer string
	}{
		{`{"data":{"type":"clients","attributes":{"name":"a","name":"b"}}}`, "/data/attributes/name"},
		{`{"data":{"type":"clients","type":"servers"}}`, "/data/type"},
		{`{"data":{"type":"clients"},"data":{"type":"servers"}}`, "/data"},
		{`{"data":{"type":"t","attributes":{"list":[{"k":1},{"k":2,"k":3}]}}}`, "/data/attributes/list/1/k"},
		{`{"data":{"type":"t","attributes":{"a/b":1,"a/b":2}}}`, "/data/attributes/a~1b"},
	} {
		_, err := DecodeBytes([]byte(tc.body))
		var he *Error
		if !errors.As(err, &he) || he.Status != http.StatusBadRequest || he.Objects[0].Source == nil || he.Objects[0].Source.Pointer != tc.pointer {
			t.Errorf("%s: %v, want 400 at %s", tc.body, err, tc.pointer)
		}
	}
	// The same names in different objects, or array elements alike, are fine.
	for _, body := range []string{
		`{"data":{"type":"t","id":"1","attributes":{"id":1,"type":2}}}`,
		`{"data":{"type":"t","attributes":{"list":[{"k":1},{"k":1}],"m":{"k":1}}}}`,
	} {
		if _, err := DecodeBytes([]byte(body)); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}
