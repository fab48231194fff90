package billmgr

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hostdeck/core"
	"hostdeck/internal/testenv"
)

// FuzzDecodeBody: any body under any content type decodes to parameters within
// the limits or to a KindInvalid error naming a parameter; it never panics.
func FuzzDecodeBody(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("func=instances.fleio.rescue&elid=5203773&sok=ok&zone=pub"))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"func\"\r\n\r\ninstances\r\n--xx--\r\n"))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nx\r\n--xx--\r\n"))
	f.Add("text/plain", []byte("func=auth"))
	f.Add("application/x-www-form-urlencoded", []byte("a=%zz"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		p, err := decodeBody(params{}, ct, bytes.NewReader(body))
		if err != nil {
			if core.ErrorKind(err) != core.KindInvalid || core.ErrorField(err) == "" {
				t.Fatalf("error %v: kind %s field %q", err, core.ErrorKind(err), core.ErrorField(err))
			}
			return
		}
		if len(p) > maxParams {
			t.Fatalf("%d parameters", len(p))
		}
		for k, v := range p {
			if len(v) > maxValueLen {
				t.Fatalf("%s is %d bytes", k, len(v))
			}
		}
		if _, err := p.elids(); err != nil && core.ErrorField(err) != "elid" {
			t.Fatalf("elids error %v", err)
		}
	})
}

// FuzzServe: whatever the query, method, content type and body, the face answers
// 200 with a document (JSON or XML), never a 5xx or a panic.
func FuzzServe(f *testing.F) {
	env := testenv.New(f)
	h := NewHandler(env.Hosting, env.Catalogue, env.Login, Options{})
	f.Add("GET", "func=instances&out=json", "", "")
	f.Add("POST", "out=json", "application/x-www-form-urlencoded", "func=auth&username=admin&password=x")
	f.Add("POST", "", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"func\"\r\n\r\ninstances.fleio.rescue\r\n--b--\r\n")
	f.Add("GET", "func=instances.fleio.stop&elid=1,2,x&authinfo=admin:admin-password-1&out=json", "", "")
	f.Add("GET", "func=instances.fleio.rescue&elid=99&sok=ok&select_boot=zz&authinfo=admin:admin-password-1", "", "")
	f.Fuzz(func(t *testing.T, method, query, ct, body string) {
		switch method {
		case "GET", "POST", "PUT", "HEAD", "DELETE":
		default:
			method = "POST"
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL.RawQuery = query
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		raw := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			var doc struct {
				Doc map[string]any `json:"doc"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil || doc.Doc == nil {
				t.Fatalf("not a doc: %s", raw)
			}
			if e, ok := doc.Doc["error"].(map[string]any); ok && e["$type"] == "internal" {
				t.Fatalf("internal error: %s", raw)
			}
			return
		}
		var doc struct {
			XMLName xml.Name `xml:"doc"`
		}
		if err := xml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("not an XML doc: %v: %s", err, raw)
		}
	})
}
