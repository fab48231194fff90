package billmgr

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"

	"hostdeck/core"
)

// node is one element of the panel's document, in the shape its JSON output has:
// "$" is the element's text, other "$name" keys its attributes, and any other key
// a child element (a node, a string as {"$": …}, or a list of nodes, repeated).
type node map[string]any

// text is an element holding only text: {"$": v}.
func text(v string) node { return node{"$": v} }

// write answers doc as the panel does: {"doc": {...}} with out=json, else the same
// document as XML (<doc>…</doc>). Errors are documents too: the status is 200.
func write(w http.ResponseWriter, out string, doc node) {
	if out == "json" {
		b, err := json.Marshal(node{"doc": doc})
		if err != nil {
			b = []byte(`{"doc":{"error":{"$type":"internal","$object":"","msg":{"$":"internal error"}}}}`)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(b)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	writeXML(&buf, "doc", doc)
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// writeXML writes n as the element name: attributes from "$name" keys, text from
// "$", children from the other keys, in the order of their names.
func writeXML(buf *bytes.Buffer, name string, n node) {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf.WriteByte('<')
	buf.WriteString(name)
	for _, k := range keys {
		if k == "$" || !strings.HasPrefix(k, "$") {
			continue
		}
		s, _ := n[k].(string)
		buf.WriteByte(' ')
		buf.WriteString(k[1:])
		buf.WriteString(`="`)
		xml.EscapeText(buf, []byte(s))
		buf.WriteByte('"')
	}
	buf.WriteByte('>')
	if s, ok := n["$"].(string); ok {
		xml.EscapeText(buf, []byte(s))
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "$") {
			continue
		}
		switch v := n[k].(type) {
		case node:
			writeXML(buf, k, v)
		case []node:
			for _, c := range v {
				writeXML(buf, k, c)
			}
		case string:
			writeXML(buf, k, text(v))
		}
	}
	buf.WriteString("</")
	buf.WriteString(name)
	buf.WriteByte('>')
}

// panelFields are the panel's names of the inputs core names otherwise in its
// errors: the image a rescue boots is core's image_id and the panel's
// select_boot.
var panelFields = map[string]string{"image_id": "select_boot"}

// errorDoc is the one place core's error kinds become the panel's error document,
// {"error": {"$type", "$object", "msg": {"$"}}}:
//
//	missing parameter        missed   / the parameter
//	bad value (KindInvalid)  value    / the parameter
//	body over the limit      toolarge / body
//	unknown func             missed   / func
//	KindNotFound             missed   / the parameter (elid, select_boot, …)
//	KindConflict (state)     status   / elid
//	KindConflict (other)     exists   / the field
//	KindUnauthenticated      auth     / the session or credentials
//	KindForbidden            access   / func
//	KindTooMany              toomany  / auth
//	KindUnavailable          unavailable
//	KindInternal             internal (message hidden)
//
// A field core names otherwise than the panel does is given the panel's name
// (panelFields).
func errorDoc(err error) node {
	field := core.ErrorField(err)
	if f, ok := panelFields[field]; ok {
		field = f
	}
	var typ, obj string
	switch core.ErrorKind(err) {
	case core.KindInvalid:
		typ, obj = "value", field
		if r := core.ErrorReason(err); r == "missed" || r == "toolarge" {
			typ = r
		}
	case core.KindNotFound:
		typ, obj = "missed", field
		if obj == "" {
			obj = "elid"
		}
	case core.KindConflict:
		typ, obj = "exists", field
		if core.ErrorReason(err) == "invalid_state" {
			typ, obj = "status", "elid"
		}
	case core.KindUnauthenticated:
		typ, obj = "auth", "auth"
	case core.KindForbidden:
		typ, obj = "access", "func"
	case core.KindTooMany:
		typ, obj = "toomany", "auth"
	case core.KindUnavailable:
		typ = "unavailable"
	default:
		typ = "internal"
	}
	return node{"error": node{"$type": typ, "$object": obj, "msg": text(core.ErrorMessage(err))}}
}
