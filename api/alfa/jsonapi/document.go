// Package jsonapi is the JSON:API v1.1 dialect the alfa face speaks: top-level
// documents and resource objects, error objects (with the source pointer,
// parameter or header they are about), a strict request decoder, the list query
// (page, filter, sort) with its links, and media-type negotiation. It holds no
// rule of the face: alfa decides its resources, filters and sort fields.
package jsonapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// MediaType is the JSON:API media type every response carries.
const MediaType = "application/vnd.api+json"

// Document is a JSON:API top-level document. Data is a *Resource, a []*Resource
// (never nil for a collection) or nil; a document carries Data or Errors, never both.
type Document struct {
	Data     any            `json:"data,omitempty"`
	Errors   []ErrorObject  `json:"errors,omitempty"`
	Links    Links          `json:"links,omitempty"`
	Meta     map[string]any `json:"meta,omitempty"`
	Included []*Resource    `json:"included,omitempty"`
	JSONAPI  *JSONAPI       `json:"jsonapi,omitempty"`
}

// JSONAPI is the top-level "jsonapi" member.
type JSONAPI struct {
	Version string `json:"version"`
}

// Version is the JSONAPI object every response carries.
var Version = &JSONAPI{Version: "1.1"}

// Links is a links object; a link that is unavailable is left out.
type Links map[string]string

// Resource is a resource object. Attributes is usually a struct with json tags.
type Resource struct {
	Type          string                  `json:"type"`
	ID            string                  `json:"id"`
	Attributes    any                     `json:"attributes,omitempty"`
	Relationships map[string]Relationship `json:"relationships,omitempty"`
	Links         Links                   `json:"links,omitempty"`
	Meta          map[string]any          `json:"meta,omitempty"`
}

// Relationship is a to-one relationship: Data is null when there is no related resource.
type Relationship struct {
	Data  *Identifier `json:"data"`
	Links Links       `json:"links,omitempty"`
}

// Identifier is a resource identifier object.
type Identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ErrorObject is a JSON:API error object. Status is the HTTP status as a string.
type ErrorObject struct {
	Status string  `json:"status"`
	Code   string  `json:"code,omitempty"`
	Title  string  `json:"title,omitempty"`
	Detail string  `json:"detail,omitempty"`
	Source *Source `json:"source,omitempty"`
}

// Source names the part of the request an error is about.
type Source struct {
	Pointer   string `json:"pointer,omitempty"`   // JSON Pointer into the request document
	Parameter string `json:"parameter,omitempty"` // a query parameter
	Header    string `json:"header,omitempty"`    // a request header
}

// Write sends doc with status as JSON:API. A 204 is sent without a body.
func Write(w http.ResponseWriter, status int, doc *Document) {
	h := w.Header()
	if status == http.StatusNoContent || doc == nil {
		w.WriteHeader(status)
		return
	}
	if doc.JSONAPI == nil {
		doc.JSONAPI = Version
	}
	b, err := json.Marshal(doc)
	if err != nil {
		// Only a face bug (an unencodable attribute) gets here.
		b = []byte(`{"errors":[{"status":"500","code":"internal","title":"Internal Server Error","detail":"internal error"}]}`)
		status = http.StatusInternalServerError
	}
	h.Set("Content-Type", MediaType)
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
