package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// This file holds what the client verbs (servers, clients, tasks) share: the
// environment they read, the --server and --json flags, and a small JSON:API
// client for the alfa face of a running hostdeck.

const (
	jsonAPIMedia     = "application/vnd.api+json"
	defaultServerURL = "http://127.0.0.1:8080"
)

// cliEnv is what the client verbs take from the process, so tests can replace it.
type cliEnv struct {
	getenv   func(string) string
	http     *http.Client
	poll     time.Duration        // how often `tasks wait` asks for the task
	terminal func(io.Writer) bool // whether a progress bar may be drawn on w
}

func defaultCLIEnv() cliEnv {
	return cliEnv{
		getenv:   os.Getenv,
		http:     &http.Client{Timeout: 60 * time.Second},
		poll:     300 * time.Millisecond,
		terminal: isTerminal,
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// cliOpts are the flags every client verb has, plus the environment.
type cliOpts struct {
	env    cliEnv
	server string
	json   bool
}

// addPersistentFlags puts --server and --json on a verb group (servers, clients, tasks).
func (o *cliOpts) addPersistentFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.server, "server", "", "URL of the hostdeck control plane; the alfa face is under <server>/alfa/ [HOSTDECK_SERVER, else "+defaultServerURL+"]")
	f.BoolVar(&o.json, "json", false, "print the JSON:API resources as indented JSON")
	cmd.Long = cmd.Short + `.

Talks to the alfa face of a running hostdeck. Credentials come from the environment,
never from flags: HOSTDECK_USER and HOSTDECK_PASSWORD, else HOSTDECK_ADMIN_USER
(default "admin") and HOSTDECK_ADMIN_PASSWORD.`
}

// runGroup runs a verb group given no verb: help, or an error for an unknown verb
// (cobra would otherwise print help and exit 0 on a typo).
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// client builds the API client from the flags and the environment.
func (o *cliOpts) client() *apiClient {
	server := o.server
	if server == "" {
		server = o.env.getenv("HOSTDECK_SERVER")
	}
	if server == "" {
		server = defaultServerURL
	}
	server = strings.TrimRight(server, "/")
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	user, password := o.env.getenv("HOSTDECK_USER"), o.env.getenv("HOSTDECK_PASSWORD")
	if user == "" && password == "" {
		user, password = o.env.getenv("HOSTDECK_ADMIN_USER"), o.env.getenv("HOSTDECK_ADMIN_PASSWORD")
		if user == "" && password != "" {
			user = "admin" // what `hostdeck serve` names the admin when HOSTDECK_ADMIN_USER is unset
		}
	}
	return &apiClient{server: server, user: user, password: password, http: o.env.http}
}

// apiClient speaks JSON:API to the alfa face under server + "/alfa".
type apiClient struct {
	server         string
	user, password string
	http           *http.Client
}

// apiDoc is a JSON:API top-level document. Resources stay raw so that --json
// prints exactly what the server sent.
type apiDoc struct {
	Data     json.RawMessage   `json:"data"`
	Included []json.RawMessage `json:"included"`
	Links    map[string]any    `json:"links"`
	Errors   []apiErrorObject  `json:"errors"`
}

// apiResource is one decoded resource object; Raw is its text as sent.
type apiResource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
	Raw        json.RawMessage
}

func decodeResource(raw json.RawMessage) (apiResource, error) {
	var r apiResource
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // keeps byte counts and the like exact
	if err := d.Decode(&r); err != nil {
		return r, fmt.Errorf("decode resource: %w", err)
	}
	r.Raw = raw
	return r, nil
}

// one decodes primary data holding a single resource.
func (d *apiDoc) one() (apiResource, error) {
	if len(d.Data) == 0 || d.Data[0] != '{' {
		return apiResource{}, errors.New("the server sent no resource")
	}
	return decodeResource(d.Data)
}

// many decodes primary data holding a list of resources.
func (d *apiDoc) many() ([]apiResource, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(d.Data, &raws); err != nil {
		return nil, errors.New("the server sent no list of resources")
	}
	out := make([]apiResource, 0, len(raws))
	for _, raw := range raws {
		r, err := decodeResource(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// included finds a resource of the given type in the included array.
func (d *apiDoc) included(typ string) (apiResource, bool) {
	for _, raw := range d.Included {
		r, err := decodeResource(raw)
		if err == nil && r.Type == typ {
			return r, true
		}
	}
	return apiResource{}, false
}

// next is links.next, a string or a link object, or "" when there is none.
func (d *apiDoc) next() string {
	switch v := d.Links["next"].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["href"].(string)
		return s
	}
	return ""
}

// apiErrorObject is one JSON:API error object.
type apiErrorObject struct {
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// apiError is a failed request: every error object the server sent, each
// rendered as "<status> <title>: <detail>" on its own line.
type apiError struct {
	HTTPStatus int
	Errors     []apiErrorObject
	hint       string
}

func (e *apiError) Error() string {
	lines := make([]string, 0, len(e.Errors)+1)
	for _, o := range e.Errors {
		status := o.Status
		if status == "" {
			status = fmt.Sprint(e.HTTPStatus)
		}
		title := o.Title
		if title == "" {
			title = o.Code
		}
		if title == "" {
			title = http.StatusText(e.HTTPStatus)
		}
		line := status + " " + title
		if o.Detail != "" {
			line += ": " + o.Detail
		}
		lines = append(lines, line)
	}
	if e.hint != "" {
		lines = append(lines, e.hint)
	}
	// main prints "hostdeck: " before the first line; the others get it here.
	return strings.Join(lines, "\nhostdeck: ")
}

// do sends one request. path is relative to the alfa face ("/servers") unless
// it is an absolute URL (a links.next). body, when not nil, is encoded as JSON.
func (c *apiClient) do(ctx context.Context, method, path string, body any) (*apiDoc, error) {
	target := path
	if !strings.Contains(path, "://") {
		target = c.server + "/alfa" + path
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.server, err)
	}
	req.Header.Set("Accept", jsonAPIMedia)
	if body != nil {
		req.Header.Set("Content-Type", jsonAPIMedia)
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("cannot reach hostdeck at %s: connection refused (is it running? set --server or HOSTDECK_SERVER)", c.server)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, target, err)
	}
	var doc apiDoc
	decodeErr := error(nil)
	if len(bytes.TrimSpace(raw)) > 0 {
		decodeErr = json.Unmarshal(raw, &doc)
	}
	if resp.StatusCode >= 400 || len(doc.Errors) > 0 {
		e := &apiError{HTTPStatus: resp.StatusCode, Errors: doc.Errors}
		if len(e.Errors) == 0 {
			// Not a JSON:API error document (a proxy's page, say): show its start.
			e.Errors = []apiErrorObject{{Detail: firstLine(raw)}}
		}
		if resp.StatusCode == http.StatusUnauthorized && c.user == "" {
			e.hint = "no credentials: set HOSTDECK_USER and HOSTDECK_PASSWORD"
		}
		return nil, e
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("%s %s: the answer is not JSON:API (%s): %w", method, target, resp.Header.Get("Content-Type"), decodeErr)
	}
	return &doc, nil
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// get fetches one resource.
func (c *apiClient) get(ctx context.Context, path string) (apiResource, error) {
	doc, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return apiResource{}, err
	}
	return doc.one()
}

// listOpts selects a page, or every page when Page is 0.
type listOpts struct {
	Page, Size int
	Filter     map[string]string // filter[name]=value; empty values are left out
}

// listCmd is a `list` verb: every resource at path (following pages), as a table
// of header and row, or as JSON with --json. filter, when set, gives the
// filter[...] values from the verb's own flags.
func (o *cliOpts) listCmd(short, path string, filter func() map[string]string, header []string, row func(apiResource) []string) *cobra.Command {
	var lo listOpts
	cmd := &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if filter != nil {
				lo.Filter = filter()
			}
			rs, err := o.client().list(cmd.Context(), path, lo)
			if err != nil {
				return err
			}
			if o.json {
				return printResources(cmd.OutOrStdout(), rs)
			}
			rows := make([][]string, len(rs))
			for i, r := range rs {
				rows[i] = row(r)
			}
			return printTable(cmd.OutOrStdout(), header, rows)
		},
	}
	lo.addFlags(cmd)
	return cmd
}

func (o *listOpts) addFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&o.Page, "page", 0, "fetch only this page (1-based); all pages when 0")
	cmd.Flags().IntVar(&o.Size, "size", 0, "page size; the server's default when 0")
}

// list fetches a collection, following links.next unless one page was asked for.
func (c *apiClient) list(ctx context.Context, path string, o listOpts) ([]apiResource, error) {
	q := url.Values{}
	keys := make([]string, 0, len(o.Filter))
	for k := range o.Filter {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := o.Filter[k]; v != "" {
			q.Set("filter["+k+"]", v)
		}
	}
	if o.Page > 0 {
		q.Set("page[number]", fmt.Sprint(o.Page))
	}
	if o.Size > 0 {
		q.Set("page[size]", fmt.Sprint(o.Size))
	}
	target := c.server + "/alfa" + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var out []apiResource
	seen := map[string]bool{}
	for target != "" && !seen[target] {
		seen[target] = true
		doc, err := c.do(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		items, err := doc.many()
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if o.Page > 0 {
			break
		}
		next, err := resolveLink(target, doc.next())
		if err != nil {
			return nil, err
		}
		target = next
	}
	return out, nil
}

// resolveLink makes a link absolute against the URL it came from.
func resolveLink(from, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	base, err := url.Parse(from)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("bad links.next %q: %w", link, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// newResourceBody is the body of a create request.
func newResourceBody(typ string, attrs map[string]any) map[string]any {
	return map[string]any{"data": map[string]any{"type": typ, "attributes": attrs}}
}

// printJSON writes v indented; raw JSON is re-indented as it is.
func printJSON(w io.Writer, v any) error {
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// printResources writes resources as a JSON array of what the server sent.
func printResources(w io.Writer, rs []apiResource) error {
	raws := make([]json.RawMessage, len(rs))
	for i, r := range rs {
		raws[i] = r.Raw
	}
	return printJSON(w, raws)
}

// printTable writes rows under a header, aligned.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// printFields writes one resource as "field  value" lines: id, then the named
// attributes in order, then any others the server sent, sorted.
func printFields(w io.Writer, r apiResource, order []string) error {
	return printPairs(w, fieldPairs(r, order))
}

func fieldPairs(r apiResource, order []string) [][2]string {
	pairs := [][2]string{{"id", r.ID}}
	shown := map[string]bool{}
	for _, k := range order {
		shown[k] = true
		if v, ok := r.Attributes[k]; ok {
			pairs = append(pairs, [2]string{k, cell(v)})
		}
	}
	var rest []string
	for k := range r.Attributes {
		if !shown[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		pairs = append(pairs, [2]string{k, cell(r.Attributes[k])})
	}
	return pairs
}

func printPairs(w io.Writer, pairs [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s\t%s\n", p[0], p[1])
	}
	return tw.Flush()
}

// attr is attribute k of r as table text.
func attr(r apiResource, k string) string { return cell(r.Attributes[k]) }

// cell renders an attribute value for a table: null as "-", objects as compact JSON.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if v == "" {
			return "-"
		}
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "yes"
		}
		return "no"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// intAttr is a numeric attribute, or 0.
func intAttr(r apiResource, k string) int64 {
	if n, ok := r.Attributes[k].(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return int64(f)
		}
	}
	return 0
}

// humanBytes renders a byte count in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
