package billmgr

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// Limits of a request: the body (httpx.MaxBody), the number of parameters and the
// length of one value.
const (
	maxParams   = 64
	maxValueLen = 4096
)

// params are a request's parameters: the query string and the body's form fields
// (form-urlencoded or multipart) alike. A name given twice keeps its first value;
// the body wins over the query string.
type params map[string]string

// errMissed and errValue are the face's decoding errors, in core's kinds, with the
// offending parameter in Field and the panel's error type in Reason.
func errMissed(name string) error {
	return &core.Error{Kind: core.KindInvalid, Field: name, Reason: "missed", Message: "required parameter " + name + " is missing"}
}

func errValue(name, format string) error {
	return &core.Error{Kind: core.KindInvalid, Field: name, Reason: "value", Message: "bad value of " + name + ": " + format}
}

// decodeRequest reads the parameters of r: GET query strings, POST
// application/x-www-form-urlencoded and multipart/form-data. File parts of a
// multipart body are refused. httpx.Serve caps the body at httpx.MaxBody.
func decodeRequest(r *http.Request) (params, error) {
	p := params{}
	if err := p.addValues(r.URL.Query()); err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return p, nil
	}
	body := r.Body
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		// No content type: only an empty body is understood.
		n, err := body.Read(make([]byte, 1))
		if n > 0 {
			return nil, errValue("Content-Type", "a body needs application/x-www-form-urlencoded or multipart/form-data")
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, bodyErr(err)
		}
		return p, nil
	}
	return decodeBody(p, ct, body)
}

// decodeBody reads a form body of content type ct from body into p.
func decodeBody(p params, ct string, body io.Reader) (params, error) {
	mt, mp, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, errValue("Content-Type", "unreadable content type")
	}
	form := params{}
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(io.LimitReader(body, httpx.MaxBody+1))
		if err != nil {
			return nil, bodyErr(err)
		}
		if len(b) > httpx.MaxBody {
			return nil, bodyErr(&http.MaxBytesError{Limit: httpx.MaxBody})
		}
		vs, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, errValue("body", "malformed form-urlencoded body")
		}
		if err := form.addValues(vs); err != nil {
			return nil, err
		}
	case "multipart/form-data":
		boundary := mp["boundary"]
		if boundary == "" {
			return nil, errValue("Content-Type", "multipart/form-data without a boundary")
		}
		mr := multipart.NewReader(io.LimitReader(body, httpx.MaxBody+1), boundary)
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, bodyErr(err)
			}
			name := part.FormName()
			if name == "" {
				part.Close()
				continue
			}
			if part.FileName() != "" {
				part.Close()
				return nil, errValue(name, "file uploads are not accepted")
			}
			b, err := io.ReadAll(io.LimitReader(part, maxValueLen+1))
			part.Close()
			if err != nil {
				return nil, bodyErr(err)
			}
			if len(b) > maxValueLen {
				return nil, errValue(name, "longer than "+strconv.Itoa(maxValueLen)+" bytes")
			}
			if err := form.add(name, string(b)); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errValue("Content-Type", "use application/x-www-form-urlencoded or multipart/form-data")
	}
	for k, v := range form {
		if _, ok := p[k]; !ok && len(p) >= maxParams {
			return nil, errValue("body", "more than "+strconv.Itoa(maxParams)+" parameters")
		}
		p[k] = v
	}
	return p, nil
}

func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || strings.Contains(err.Error(), "request body too large") {
		return &core.Error{Kind: core.KindInvalid, Field: "body", Reason: "toolarge",
			Message: "request body is larger than " + strconv.Itoa(httpx.MaxBody) + " bytes", Err: err}
	}
	return &core.Error{Kind: core.KindInvalid, Field: "body", Reason: "value", Message: "unreadable request body", Err: err}
}

func (p params) addValues(vs url.Values) error {
	for k, v := range vs {
		if len(v) == 0 {
			continue
		}
		if err := p.add(k, v[0]); err != nil {
			return err
		}
	}
	return nil
}

func (p params) add(name, v string) error {
	if _, ok := p[name]; ok {
		return nil
	}
	if len(p) >= maxParams {
		return errValue("body", "more than "+strconv.Itoa(maxParams)+" parameters")
	}
	if len(v) > maxValueLen {
		return errValue(name, "longer than "+strconv.Itoa(maxValueLen)+" bytes")
	}
	p[name] = v
	return nil
}

// required returns a parameter that must be present and not empty.
func (p params) required(name string) (string, error) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return "", errMissed(name)
	}
	return v, nil
}

// elids parses elid: one positive integer or a comma-separated list of them
// (repeats dropped, at most 100).
func (p params) elids() ([]int64, error) {
	raw, err := p.required("elid")
	if err != nil {
		return nil, err
	}
	var out []int64
	seen := map[int64]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n <= 0 {
			return nil, errValue("elid", "expected positive integers separated by commas")
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) > 100 {
		return nil, errValue("elid", "more than 100 ids")
	}
	return out, nil
}

// Paging of list functions, as the panel's: p_num is the page (from 1), p_cnt the
// rows on a page. A p_cnt above maxPageRows is served as maxPageRows (the answer's
// p_cnt says so) rather than refused, since panel clients often ask for a large
// page to get "everything" and can see from p_elems that there is more.
const (
	defaultPageRows = 100
	maxPageRows     = 1000
	maxPageNum      = 1_000_000_000
)

// page parses p_num (default 1, at most maxPageNum) and p_cnt (default
// defaultPageRows, clamped to maxPageRows). An empty value is the default; a value
// that is not a positive integer (digits only) is refused.
func (p params) page() (num, cnt int, err error) {
	num, cnt = 1, defaultPageRows
	if v := strings.TrimSpace(p["p_num"]); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 || n > maxPageNum {
			return 0, 0, errValue("p_num", "expected a page number from 1 to "+strconv.Itoa(maxPageNum))
		}
		num = int(n)
	}
	if v := strings.TrimSpace(p["p_cnt"]); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			n = maxPageRows // digits only, too many of them: above the maximum
		case err != nil || n < 1:
			return 0, 0, errValue("p_cnt", "expected a positive number of rows per page")
		}
		cnt = int(min(n, maxPageRows))
	}
	return num, cnt, nil
}
