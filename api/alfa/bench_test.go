package alfa_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/alfa"
	"hostdeck/core"
	"hostdeck/core/secret"
	"hostdeck/core/services"
	"hostdeck/internal/loadbench"
	"hostdeck/internal/testenv"
)

// BenchmarkListClients serves GET /clients?page[size]=50 over real HTTP, 50
// connections at once, over 100,000 clients seeded through the store (each with
// its instance), beside a server replaying the same bytes (loadbench.Compare):
// the first page and page 1,000, the middle of the list, as deep as a page
// gets. Authentication is HTTP Basic, the face's only credential (a password
// the login guard has verified recently costs a user lookup and a hash, no
// argon2id).
func BenchmarkListClients(b *testing.B) {
	env := testenv.New(b)
	srv := env.Server(b, "big", 200_000)
	const n = 100_000
	ctx := context.Background()
	err := env.Store.InTx(ctx, func(q services.Queries) error {
		for i := range n {
			in := &core.Instance{ServerID: srv.ID, Name: fmt.Sprintf("hd-bench-%06d", i), State: core.StateActive}
			if err := q.CreateInstance(ctx, in); err != nil {
				return err
			}
			c := &core.Client{
				Name: fmt.Sprintf("lab-%06d", i), Email: fmt.Sprintf("lab%06d@example.test", i), Lang: "ru",
				ServerID: srv.ID, InstanceID: in.ID, Status: core.ClientActive, URL: "http://127.0.0.1/" + in.Name,
			}
			if err := q.CreateClient(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	h := alfa.NewHandler(env.Cloud, env.Fleet, env.Login, alfa.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(testenv.AdminUser+":"+testenv.AdminPassword))
	for _, page := range []int{1, 1000} {
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			loadbench.Compare(b, h, loadbench.Request{
				Path:   fmt.Sprintf("/clients?page[size]=50&page[number]=%d", page),
				Header: http.Header{"Authorization": {basic}, "Accept": {"application/vnd.api+json"}},
			})
		})
	}
}

// BenchmarkAuthBasic is a request authenticated by HTTP Basic through the
// face: a path no route serves, so that after the credential is checked the
// face only renders the router's 404. Its anchor is a handler that writes the
// same bytes. The first request (one argon2id at production cost) is made
// before the timer starts: this measures the requests that follow it.
func BenchmarkAuthBasic(b *testing.B) {
	env := testenv.NewWith(b, testenv.Options{Hasher: secret.Hasher{Params: secret.DefaultParams}})
	h := alfa.NewHandler(env.Cloud, env.Fleet, env.Login, alfa.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	req := httptest.NewRequest(http.MethodGet, "/no-such-route", nil)
	req.SetBasicAuth(testenv.AdminUser, testenv.AdminPassword)
	loadbench.InProcess(b, h, req)
}
