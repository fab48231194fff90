package billmgr

import (
	"testing"

	"hostdeck/core"
)

// TestErrorDocPanelFields: an error core raises about its image_id is about the
// panel's select_boot; other fields pass as they are.
func TestErrorDocPanelFields(t *testing.T) {
	for _, tc := range []struct {
		err      error
		typ, obj string
	}{
		{&core.Error{Kind: core.KindNotFound, Field: "image_id", Message: `image "x" not found`}, "missed", "select_boot"},
		{core.Invalid("password", "bad"), "value", "password"},
		{core.NotFound("instance", "7"), "missed", "elid"},
	} {
		e := errorDoc(tc.err)["error"].(node)
		if e["$type"] != tc.typ || e["$object"] != tc.obj {
			t.Errorf("%v: $type %v, $object %v; want %s, %s", tc.err, e["$type"], e["$object"], tc.typ, tc.obj)
		}
	}
}
