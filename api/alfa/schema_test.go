package alfa_test

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// jsonapiSchema is the JSON:API v1.1 response schema (jsonapi.org's, kept in
// testdata so the tests need nothing outside the repository).
var jsonapiSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open("testdata/jsonapi-schema-1.1.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("jsonapi-1.1.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("jsonapi-1.1.json")
})

// validateSchema checks a response body against the JSON:API v1.1 schema.
func validateSchema(t testing.TB, what string, body []byte) {
	t.Helper()
	s, err := jsonapiSchema()
	if err != nil {
		t.Fatalf("load JSON:API schema: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("%s: not a valid JSON:API 1.1 document: %v\n%s", what, err, body)
	}
}

// TestSchemaCatchesBadDocuments makes sure the schema check has teeth.
func TestSchemaCatchesBadDocuments(t *testing.T) {
	s, err := jsonapiSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"data":{"type":"clients","id":1}}`,
		`{"data":null,"errors":[]}`,
		`{"meta":1}`,
	} {
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		if s.Validate(v) == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}
