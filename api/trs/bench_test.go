package trs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hostdeck/api/trs"
	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/desktop/machine"
	"hostdeck/core/desktop/provision"
	"hostdeck/core/identity"
	"hostdeck/internal/loadbench"
	"hostdeck/internal/testenv"
)

// BenchmarkListServersWithOS lists 10,000 machines of 10 projects with their
// os_server objects through the whole face (auth, core, store, encoding), one
// in ten assigned to a user, over real HTTP, 50 connections at once, beside a
// server replaying the same bytes (loadbench.Compare). Authentication is an
// API token (X-Auth-Token), the face's only credential.
func BenchmarkListServersWithOS(b *testing.B) {
	const machines, projects = 10000, 10
	env := testenv.New(b)
	ctx := env.AdminCtx()
	srv := env.Server(b, "node-1", machines)
	alice, err := env.Identity.CreateUser(ctx, identity.UserInput{Name: ptr("alice"), Password: ptr("alice-password")})
	if err != nil {
		b.Fatal(err)
	}
	for p := range projects {
		name := fmt.Sprintf("lab-%d", p)
		proj, err := env.Desktop.CreatePool(ctx, desktop.PoolInput{Name: &name, FlavorID: ptr(smallFlavor), ImageID: ptr(sampleImage)})
		if err != nil {
			b.Fatal(err)
		}
		// Machines are written straight to the store: this measures listing them.
		err = core.InTx(context.Background(), env.Store, func(q provision.Queries) error {
			for i := range machines / projects {
				in := &core.Instance{Name: fmt.Sprintf("%s-%04d", name, i), ServerID: srv.ID, ProjectID: proj.ID,
					ImageID: sampleImage, State: core.StateActive, RuntimeRef: fmt.Sprintf("sim-%d-%d", p, i),
					Address: fmt.Sprintf("10.%d.%d.%d", p, i/250, i%250+2), Spec: core.InstanceSpec{Name: name, Image: "sample"}}
				if err := q.CreateInstance(context.Background(), in); err != nil {
					return err
				}
				if i%10 == 0 {
					if err := q.AddMachineAssignment(context.Background(), &machine.MachineAssignment{MachineID: in.ID,
						SubjectType: machine.SubjectUser, SubjectID: alice.ID, AssignedAt: in.CreatedAt}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	tok := env.Token(b, testenv.AdminUser, testenv.AdminPassword)
	h := trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, trs.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	loadbench.Compare(b, h, loadbench.Request{Path: "/v1/servers/?with_os_object=true", Header: http.Header{"X-Auth-Token": {tok}}})
}

func ptr[T any](v T) *T { return &v }

// BenchmarkAuthToken is a request authenticated by an API token
// (X-Auth-Token) through the face: GET /v1/info, which reads nothing once the
// token is checked. Its anchor is a handler that writes the same bytes.
func BenchmarkAuthToken(b *testing.B) {
	env := testenv.New(b)
	tok := env.Token(b, testenv.AdminUser, testenv.AdminPassword)
	h := trs.NewHandler(env.Desktop, env.Session, env.Machine, env.Provision, env.HandOut, env.Catalogue, env.Identity, env.Login, trs.Options{Log: env.Log, Registerer: prometheus.NewRegistry()})
	req := httptest.NewRequest(http.MethodGet, "/v1/info", nil)
	req.Header.Set("X-Auth-Token", tok)
	loadbench.InProcess(b, h, req)
}
