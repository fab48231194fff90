// Package rsproto is what the two faces of the remote-desktop document's RS
// server share: the TRS error envelope with the document's numeric catalogue (in
// English or Russian) and the password policy's warnings, the body decoder, the
// Nova view of an instance state, the face's root URL, and plain JSON answers.
// api/trs (the RS server's admin API) and api/broker (its broker) import it; neither
// imports the other.
package rsproto

import (
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"hostdeck/api/httpx"
	"hostdeck/core"
	"hostdeck/core/desktop/handout"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/login"
	"hostdeck/core/quota"
)

// errorCode is one line of the document's error catalogue ("Описание ошибок
// обращений к TRS server"). A line without a client message of its own shows its
// description to the client.
type errorCode struct {
	Code              int
	DescEN, MessageEN string
	DescRU, MessageRU string
}

// catalogue is the document's 27 error codes, verbatim, and hostdeck's code 28
// (throttled). Placeholders such as {project_name} are filled from
// core.Error.Params.
var catalogue = map[int]errorCode{
	1: {1, "Unexpected error occurred.", "Unexpected error occurred. Please contact system administrator.",
		"Произошла непредвиденная ошибка.", "Произошла непредвиденная ошибка. Обратитесь к системному администратору."},
	2: {2, "License expired.", "License of RS server {cloud_url} got out. Please contact system administrator.",
		"Истек срок действия лицензии.", "Срок лицензии модуля RS сервер {cloud_url} истек. Обратитесь к системному администратору."},
	3: {3, "Asynchronous task of getting an instance failed.", "",
		"Ошибка при выполнении асинхронной задачи получения виртуальной машины.", ""},
	4: {4, "Failed to start asynchronous task of getting an instance.", "",
		"Не удалось запустить асинхронную задачу получения виртуальной машины.", ""},
	5: {5, "No available TRS project in the specified domain found.", "No available TRS project found. Please contact system administrator.",
		"Нет доступных TRS проектов для пользователя в указанном домене.", "Нет ни одного доступного TRS проекта. Обратитесь к системному администратору."},
	6: {6, "Authentication error.", "Invalid credentials. Please contact system administrator.",
		"Ошибка аутентификации.", "Неправильные учётные данные. Обратитесь к системному администратору."},
	7: {7, "Password expired.", "The password needs to be changed.",
		"Истек срок действия пароля.", "Необходимо изменить пароль."},
	8: {8, "The specified project is not TRS.", "Not a TRS project: {project_name}.",
		"Указанный проект не является TRS проектом.", "Проект {project_name} не является TRS проектом."},
	9:  {9, "Invalid request body.", "", "Неверное тело запроса.", ""},
	10: {10, "Unable to find an instance obtain request by given ID.", "", "Не удалось найти запрос на получение виртуальной машины по указанному ID.", ""},
	11: {11, "Forbidden to obtain an instance request.", "", "Нет доступа к указанному запросу на получение виртуальной машины.", ""},
	12: {12, "Project quota exceeded.", "Quota exceeded for TRS project «{project_name}». Please contact system administrator.",
		"Превышена квота проекта.", "Превышена квота для TRS проекта «{project_name}». Обратитесь к системному администратору."},
	13: {13, "Instance creation failed.", "Unable to create instance in project {project_name}. Please contact system administrator.",
		"Не удалось создать новую виртуальную машину.", "Не удалось создать виртуальную машину в проекте {project_name}. Обратитесь к системному администратору."},
	14: {14, "No instances found in the specified project.", "No instance found in project {project_name}. Please contact system administrator.",
		"Нет доступных виртуальных машин в указанном проекте.", "Не найдена виртуальная машина в проекте {project_name}. Обратитесь к системному администратору."},
	15: {15, "Specified domain not found.", "Domain {domain_name} not found.",
		"Указанный домен не найден.", "Домен {domain_name} не найден."},
	16: {16, "Specified user not found.", "User {user_name} not found in domain {domain_name}.",
		"Указанный пользователь не найден.", "Пользователь {user_name} не найден в домене {domain_name}."},
	17: {17, "Instance is in an invalid state.", "Instance with id {instance_id} is in invalid state: {instance_status}. Please contact system administrator.",
		"Виртуальная машина находится в необрабатываемом статусе.", "Виртуальная машина с ID {instance_id} находится в некорректном состоянии: {instance_status}. Обратитесь к системному администратору."},
	18: {18, "Unable to obtain an instance IP address.", "Unable to get IP address of instance with id {instance_id}. Please contact system administrator.",
		"Не удалось получить IP-адрес виртуальной машины.", "Не удалось получить IP-адрес виртуальной машины с ID {instance_id}. Обратитесь к системному администратору."},
	19: {19, "Password expiration warning.", "Password expires in {seconds} seconds and needs to be changed.",
		"Предупреждение о том, что пароль скоро истечёт.", "Ваш пароль истекает через {seconds} секунд, измените его."},
	20: {20, "Warning that amount of authentications with current password is limited.", "Password expired, {attempts} grace logins remain.",
		"Предупреждение о том, что осталось ограниченное число аутентификаций с использованием текущего пароля.", "Срок вашего пароля истек, осталось {attempts} попытки для входа."},
	21: {21, "Authentication server is not available.", "Authentication server is not available. Please contact system administrator.",
		"Недоступен сервер аутентификации.", "Сервер аутентификации недоступен. Обратитесь к системному администратору."},
	22: {22, "Kerberos script file is not available because of it does not exist or it has wrong permissions.",
		"Couldn’t change password because of the KERBEROS.script_path file doesn’t exist or it’s unaccessible. Please contact system administrator.",
		"Файл скрипта для изменения пароля в Kerberos недоступен по причнине того, что он не найден или неверные права доступа.",
		"Не удалось изменить пароль в связи с отсутствием файла KERBEROS.script_path или прав для его запуска. Обратитесь к системному администратору."},
	23: {23, "Error while password change process, so script returned 1",
		"Couldn’t change password because of an error while change password process execution. Please contact system administrator.",
		"Ошибка во время выполнения скрипта изменения пароля, скрипт вернул код 1.",
		"Не удалось изменить пароль в связи с ошибкой во время запуска процесса смены пароля. Обратитесь к системному администратору."},
	24: {24, "Auth token is not valid.", "Unexpected error occurred. Please contact system administrator.",
		"Токен авторизации недействителен.", "Произошла непредвиденная ошибка. Обратитесь к системному администратору."},
	25: {25, "Failed to process asynchronous task of getting an instance.", "", "Не удалось выполнить асинхронную задачу получения виртуальной машины.", ""},
	26: {26, "Request doesn’t match current Web Guard settings.", "Invalid settings of Web Guard. Please contact system administrator.",
		"Запрос не соответствует текущим настройкам Web Guard.", "Неправильные настройки Web Guard.Обратитесь к системному администратору."},
	27: {27, "OTP is required for authentication.", "", "Для аутентификации требуется код OTP.", ""},
	// 28 is hostdeck's own: the document's catalogue has no code for throttling.
	28: {28, "Too many requests.", "Too many requests. Retry in {seconds} seconds.",
		"Слишком много запросов.", "Слишком много запросов. Повторите через {seconds} с."},
}

// Error codes named where the faces use them.
const (
	CodeUnexpected   = 1
	CodeAuth         = 6
	CodeInvalidBody  = 9
	CodeInvalidToken = 24
	CodeTooMany      = 28
)

// reasonCodes maps core.Error reasons to catalogue codes. Use cases that add a
// reason either face may meet add its line here.
var reasonCodes = map[string]int{
	login.ReasonLicenseExpired:    2,
	handout.ReasonTaskFailed:      3,
	handout.ReasonTaskStartFailed: 4,
	"no_trs_project":              5,
	core.ReasonInvalidCredentials: 6,
	core.ReasonProjectForbidden:   6,
	login.ReasonPasswordExpired:   7,
	"not_trs_project":             8,
	"request_not_found":           10,
	"request_forbidden":           11,
	"quota_exceeded":              12,
	quota.ReasonUsageExceeded:     12, // a project's satellite limits
	quota.ReasonBucketsExceeds:    12,
	handout.ReasonCreateFailed:    13,
	provision.ReasonNoRoom:        13, // no server has room for the machines asked for
	handout.ReasonNoInstance:      14,
	core.ReasonDomainNotFound:     15,
	core.ReasonUserNotFound:       16,
	handout.ReasonInstanceState:   17,
	handout.ReasonInstanceIP:      18,
	login.ReasonPasswordExpiring:  19,
	login.ReasonGraceLogins:       20,
	login.ReasonAuthUnavailable:   21,
	login.ReasonScriptMissing:     22,
	login.ReasonScriptFailed:      23,
	login.ReasonTokenInvalid:      24,
	login.ReasonTokenExpired:      24,
	login.ReasonTokenRevoked:      24,
	handout.ReasonTaskProcessing:  25,
	login.ReasonWebGuard:          26,
	login.ReasonOTPRequired:       27,
}

// envelope is the TRS error body.
type envelope struct {
	Error envelopeError `json:"error"`
}

type envelopeError struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Data    map[string]string `json:"data"`
}

// codeOf is the one place where an error becomes a catalogue code: its reason
// first, then its kind (invalid, not found, conflict → 9; unauthenticated and
// forbidden → 6; too many → 28; anything else → 1).
func codeOf(err error) int {
	if c, ok := reasonCodes[core.ErrorReason(err)]; ok {
		return c
	}
	var he *httpx.Error
	if errors.As(err, &he) { // no route, a method not allowed, a body too large
		if he.Status >= 500 {
			return CodeUnexpected
		}
		return CodeInvalidBody
	}
	switch core.ErrorKind(err) {
	case core.KindInvalid, core.KindNotFound, core.KindConflict:
		return CodeInvalidBody
	case core.KindUnauthenticated, core.KindForbidden:
		return CodeAuth
	case core.KindTooMany:
		return CodeTooMany
	}
	return CodeUnexpected
}

// Warning is a catalogue entry sent beside a successful answer: the password
// policy's codes 19 (expires soon) and 20 (grace logins left) are warnings in the
// document, so they go with the answer they warn about, not instead of it.
type Warning struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Data    map[string]string `json:"data"`
}

// WarningOf renders a core warning (core.Service.PasswordNotice) in the client's
// language, as the error envelope's object.
func WarningOf(r *http.Request, notice error) *Warning {
	e := envelopeFor(r, notice).Error
	return &Warning{Code: e.Code, Message: e.Message, Data: e.Data}
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// fill replaces {name} placeholders with params; unknown ones with "".
func fill(tmpl string, params map[string]string) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(p string) string {
		return params[p[1:len(p)-1]]
	})
}

// envelopeFor builds the TRS error body of err in the client's language. data
// holds the message's parameters and, for a client error, the detail core gave.
func envelopeFor(r *http.Request, err error) envelope {
	code := codeOf(err)
	c := catalogue[code]
	params := core.ErrorParams(err)
	tmpl := c.MessageEN
	if tmpl == "" {
		tmpl = c.DescEN
	}
	if httpx.Prefers(r, "ru") {
		tmpl = c.MessageRU
		if tmpl == "" {
			tmpl = c.DescRU
		}
	}
	data := make(map[string]string, len(params)+1)
	for k, v := range params {
		data[k] = v
	}
	if code != CodeUnexpected {
		if d := Detail(err); d != "" {
			data["detail"] = d
		}
	}
	return envelope{Error: envelopeError{Code: code, Message: fill(tmpl, params), Data: data}}
}

// Detail is the client-safe explanation of err: core's message (with the field
// it is about), or an httpx error's message; "" for an internal error.
func Detail(err error) string {
	var he *httpx.Error
	if errors.As(err, &he) {
		return he.Message
	}
	if core.ErrorKind(err) == core.KindInternal {
		return ""
	}
	msg := core.ErrorMessage(err)
	if f := core.ErrorField(err); f != "" && !strings.Contains(msg, f) {
		msg = f + ": " + msg
	}
	return msg
}

// WriteError renders err in the TRS envelope (an httpx.ErrorWriter): the
// catalogue's code, the message in the client's language. Every TRS error is
// HTTP 400, as the document says, throttling included (code 28; httpx sets
// Retry-After).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteJSON(w, http.StatusBadRequest, envelopeFor(r, err))
}

// codes lists the catalogue's codes in order (for the README test and docs).
func codes() []int {
	out := make([]int, 0, len(catalogue))
	for c := range catalogue {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}
