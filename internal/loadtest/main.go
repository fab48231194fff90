// Command loadtest is what scripts/load runs: seed fills a data directory at
// scale through the store and the simulator (seeding through the API is not a
// way to measure), and replay serves the bytes one URL answered, from memory,
// as the anchor a list is measured beside.
//
//	go run ./internal/loadtest seed -data DIR -clients 100000 -machines 10000
//	go run ./internal/loadtest replay -url URL [-header 'Name: value'] -listen 127.0.0.1:9090
//	go run ./internal/loadtest create -alfa http://127.0.0.1:8080/alfa -auth admin:PASSWORD -n 200
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hostdeck/core"
	"hostdeck/core/desktop"
	"hostdeck/core/fleet"
	"hostdeck/core/services"
	"hostdeck/runtime/sim"
	"hostdeck/store/sqlite"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: loadtest seed|replay [flags]")
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "replay":
		err = replay(os.Args[2:])
	case "create":
		err = create(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: seed, replay or create", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

// Catalogue entries every store has from its migrations.
const (
	smallFlavor = "0a7e5c1d-7f3b-4c2a-9d10-000000000001"
	sampleImage = "1b8f6d2e-8a4c-4d3b-8e21-000000000001"
)

// seed writes a server "local" on the simulator, clients (each with its
// instance, running in the simulator) and pools of machines (running too),
// in transactions of a thousand.
func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	data := fs.String("data", "", "data directory to fill (hostdeck.db and sim.db)")
	clients := fs.Int("clients", 100_000, "alfa clients")
	machines := fs.Int("machines", 10_000, "trs machines, in pools of a thousand")
	fs.Parse(args)
	if *data == "" {
		return fmt.Errorf("seed: -data is required")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(*data, "hostdeck.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	rt, err := sim.Open(sim.Options{StateFile: filepath.Join(*data, "sim.db")})
	if err != nil {
		return err
	}
	defer rt.Close()
	caps := services.New(core.New(core.Deps{Store: st, Runtimes: map[string]core.Runtime{"sim": rt}}, core.Config{}), st, services.Options{})
	admin := core.WithActor(ctx, core.Actor{Name: "seed", Role: core.RoleAdmin})

	name, runtime, capacity := "local", "sim", *clients+*machines+1000
	srv, err := caps.Fleet.CreateServer(admin, fleet.ServerInput{Name: &name, Runtime: &runtime, Capacity: &capacity})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	start := time.Now()
	// run creates n instances named by name(i), running in the simulator, and
	// stores each with what more(q, i, in) writes beside it.
	run := func(what string, n int, project string, name func(int) string, more func(q services.Queries, i int, in *core.Instance) error) error {
		for lo := 0; lo < n; lo += 1000 {
			hi := min(lo+1000, n)
			insts := make([]*core.Instance, 0, hi-lo)
			for i := lo; i < hi; i++ {
				spec := core.InstanceSpec{Name: name(i), Image: "sample"}
				ref, err := rt.Create(ctx, srv, spec)
				if err == nil {
					err = rt.Start(ctx, srv, ref)
				}
				if err != nil {
					return fmt.Errorf("%s %d: %w", what, i, err)
				}
				in := &core.Instance{Name: spec.Name, ServerID: srv.ID, ProjectID: project, State: core.StateActive, RuntimeRef: ref, Spec: spec}
				if project != "" {
					in.ImageID = sampleImage
				}
				insts = append(insts, in)
			}
			err := st.InTx(ctx, func(q services.Queries) error {
				for j, in := range insts {
					if err := q.CreateInstance(ctx, in); err != nil {
						return err
					}
					if err := more(q, lo+j, in); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("%s %d..%d: %w", what, lo, hi, err)
			}
			if hi%10_000 == 0 || hi == n {
				log.Printf("seed: %d %s (%s)", hi, what, time.Since(start).Round(time.Second))
			}
		}
		return nil
	}
	err = run("clients", *clients, "", func(i int) string { return fmt.Sprintf("hd-load-%06d", i) },
		func(q services.Queries, i int, in *core.Instance) error {
			return q.CreateClient(ctx, &core.Client{Name: fmt.Sprintf("lab-%06d", i), Email: fmt.Sprintf("lab%06d@example.test", i),
				Lang: "en", ServerID: srv.ID, InstanceID: in.ID, Status: core.ClientActive, URL: "http://127.0.0.1/" + in.Name, OwnerLogin: "admin"})
		})
	if err != nil {
		return err
	}
	for p := 0; p*1000 < *machines; p++ {
		pool, err := caps.Desktop.CreatePool(admin, desktop.PoolInput{Name: core.Ptr(fmt.Sprintf("load-%02d", p)),
			FlavorID: core.Ptr(smallFlavor), ImageID: core.Ptr(sampleImage)})
		if err != nil {
			return fmt.Errorf("pool: %w", err)
		}
		n := min(1000, *machines-p*1000)
		err = run("machines", n, pool.ID, func(i int) string { return fmt.Sprintf("load-%02d-%04d", p, i) },
			func(services.Queries, int, *core.Instance) error { return nil })
		if err != nil {
			return err
		}
	}
	log.Printf("seed: done in %s", time.Since(start).Round(time.Second))
	return nil
}

// replay fetches url once and then answers every request with the same
// status, content type and bytes.
func replay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	url := fs.String("url", "", "what to replay")
	header := fs.String("header", "", "a request header, 'Name: value'")
	listen := fs.String("listen", "127.0.0.1:9090", "address to serve on")
	fs.Parse(args)
	req, err := http.NewRequest(http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	if k, v, ok := strings.Cut(*header, ":"); ok {
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("replay: %s answered %s: %.200s", *url, resp.Status, body)
	}
	ctype := resp.Header.Get("Content-Type")
	log.Printf("replay: %d bytes of %s on %s", len(body), *url, *listen)
	return http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	}))
}

// create makes n clients through alfa's API, conc at a time, waits until each
// is active, and prints how many a second came up.
func create(args []string) error {
	fs := flag.NewFlagSet("create", flag.ExitOnError)
	base := fs.String("alfa", "http://127.0.0.1:8080/alfa", "alfa's base URL")
	auth := fs.String("auth", "admin:change-me-now", "user:password")
	n := fs.Int("n", 200, "clients to create")
	conc := fs.Int("conc", 8, "requests at once")
	fs.Parse(args)
	user, pass, _ := strings.Cut(*auth, ":")
	do := func(method, url, body string) (map[string]any, error) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(user, pass)
		req.Header.Set("Content-Type", "application/vnd.api+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s %s: %s: %w", method, url, resp.Status, err)
		}
		if resp.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %s: %v", method, url, resp.Status, doc["errors"])
		}
		return doc, nil
	}
	tag := time.Now().UnixNano()
	start := time.Now()
	sem := make(chan struct{}, *conc)
	errs := make(chan error, *n)
	for i := range *n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"data":{"type":"clients","attributes":{"name":"load %d %d","email":"load%d@example.test"}}}`, tag, i, i)
			doc, err := do(http.MethodPost, *base+"/clients/create", body)
			if err != nil {
				errs <- err
				return
			}
			id := ""
			included, _ := doc["included"].([]any)
			for _, r := range included {
				if m, _ := r.(map[string]any); m["type"] == "clients" {
					id, _ = m["id"].(string)
				}
			}
			if id == "" {
				errs <- fmt.Errorf("create: no client in %v", doc)
				return
			}
			for {
				doc, err := do(http.MethodGet, *base+"/clients/"+id, "")
				if err != nil {
					errs <- err
					return
				}
				data, _ := doc["data"].(map[string]any)
				attrs, _ := data["attributes"].(map[string]any)
				switch attrs["status"] {
				case "active":
					errs <- nil
					return
				case "failed":
					errs <- fmt.Errorf("client %s failed", id)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	for range *n {
		if err := <-errs; err != nil {
			return err
		}
	}
	took := time.Since(start)
	fmt.Printf("created %d clients in %s: %.1f/s\n", *n, took.Round(time.Millisecond), float64(*n)/took.Seconds())
	return nil
}
