package ops

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"hostdeck/api/httpx"
	"hostdeck/core"
)

// Errors are {"error_code": <number>, "message": "…", "detail": "…"}. The
// document's own codes (30001 on a grant, 300001 on change-password, …) keep
// its numbers and statuses (codeError); everything else is hostdeck's global
// table (globalCodes), by the error's kind. message is English, or Chinese when
// the request prefers it (Accept-Language: zh); detail is always the English
// explanation, as DRF clients read it.

// A global code.
const (
	codeUnauthenticated = 10001
	codeBadCredentials  = 10002
	codeForbidden       = 10003
	codeNotFound        = 10004
	codeMethod          = 10005
	codeInvalid         = 10006
	codeState           = 10007
	codeInternal        = 10008
	codeTooMany         = 10009
)

// globalCode is one line of the global table: its status and its messages.
type globalCode struct {
	status int
	en, zh string
}

var globalCodes = map[int]globalCode{
	codeUnauthenticated: {http.StatusUnauthorized, "authentication credentials were not provided", "未提供认证信息"},
	codeBadCredentials:  {http.StatusUnauthorized, "invalid or expired credentials, or the user is disabled", "认证信息无效或已过期，或用户已禁用"},
	codeForbidden:       {http.StatusForbidden, "permission denied", "没有权限"},
	codeNotFound:        {http.StatusNotFound, "not found", "未找到"},
	codeMethod:          {http.StatusMethodNotAllowed, "method not allowed", "不允许的请求方法"},
	codeInvalid:         {http.StatusBadRequest, "malformed body or invalid field", "请求体格式错误或字段无效"},
	codeState:           {http.StatusBadRequest, "not allowed in the record's current state", "当前状态下不允许此操作"},
	codeInternal:        {http.StatusInternalServerError, "internal error", "内部错误"},
	codeTooMany:         {http.StatusTooManyRequests, "too many requests", "请求过于频繁"},
}

// codeError is an error with a code of the document's own (or the face's
// finding, with a global code): its status, code and messages.
type codeError struct {
	status int
	code   int
	en, zh string
}

func (e *codeError) Error() string   { return strconv.Itoa(e.code) + " " + e.en }
func (e *codeError) HTTPStatus() int { return e.status }

// invalid is a 10006 the face finds in a request (a body that does not decode,
// a query value that does not parse).
func invalid(format string, args ...any) error {
	return &codeError{status: http.StatusBadRequest, code: codeInvalid, en: fmt.Sprintf(format, args...)}
}

// errNoCredentials and errBadCredentials are the face's 401s: no
// Authorization header, or one it cannot read.
var (
	errNoCredentials  = &codeError{status: http.StatusUnauthorized, code: codeUnauthenticated, en: globalCodes[codeUnauthenticated].en}
	errBadCredentials = &codeError{status: http.StatusUnauthorized, code: codeBadCredentials, en: "the Authorization header is neither Token, Bearer nor Basic credentials"}
)

// statusOf is the one place where an error becomes a status, a code and its
// English explanation.
func statusOf(err error) (status, code int, msg string, zh string) {
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.status, ce.code, ce.en, ce.zh
	}
	var he *httpx.Error
	if errors.As(err, &he) {
		code := codeInvalid
		switch he.Status {
		case http.StatusNotFound:
			code = codeNotFound
		case http.StatusMethodNotAllowed:
			code = codeMethod
		case http.StatusUnauthorized:
			code = codeUnauthenticated
		}
		return he.Status, code, he.Message, ""
	}
	msg = core.ErrorMessage(err)
	switch core.ErrorKind(err) {
	case core.KindUnauthenticated:
		code = codeBadCredentials
	case core.KindForbidden:
		code = codeForbidden
	case core.KindNotFound:
		code = codeNotFound
	case core.KindInvalid:
		code = codeInvalid
	case core.KindConflict:
		code = codeState
	case core.KindTooMany:
		code = codeTooMany
	case core.KindCanceled:
		return httpx.StatusClientClosedRequest, codeInternal, "the request was canceled", ""
	default:
		code, msg = codeInternal, globalCodes[codeInternal].en
	}
	return globalCodes[code].status, code, msg, ""
}

// errorBody is the document's error envelope.
type errorBody struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

// writeError is the face's one error renderer (its httpx.ErrorWriter).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg, zh := statusOf(err)
	body := errorBody{Code: code, Message: msg, Detail: msg}
	if httpx.Prefers(r, "zh") {
		if zh == "" {
			zh = globalCodes[code].zh
		}
		if zh != "" {
			body.Message = zh
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Token")
	}
	writeJSON(w, status, body)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(`{"error_code":10008,"message":"internal error","detail":"internal error"}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
