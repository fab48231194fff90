package main

import (
	"io"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

func newServersCmd() *cobra.Command { return serversCmd(defaultCLIEnv()) }

// serversCmd is `hostdeck servers`: the fleet's machines, through the alfa face.
func serversCmd(env cliEnv) *cobra.Command {
	o := &cliOpts{env: env}
	cmd := &cobra.Command{
		Use:   "servers",
		Short: "List, show and add the servers of the fleet",
		Args:  cobra.ArbitraryArgs,
	}
	o.addPersistentFlags(cmd)
	cmd.RunE = runGroup

	list := o.listCmd("List servers", "/servers", nil,
		[]string{"ID", "NAME", "ADDRESS", "RUNTIME", "CAPACITY", "LOCATION", "STATUS"},
		func(r apiResource) []string {
			return []string{r.ID, attr(r, "name"), attr(r, "address"), attr(r, "runtime"),
				attr(r, "capacity"), attr(r, "location"), attr(r, "status")}
		})

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a server and its live load",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := o.client().get(cmd.Context(), "/servers/"+url.PathEscape(args[0]))
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(cmd.OutOrStdout(), r.Raw)
			}
			return printServer(cmd.OutOrStdout(), r)
		},
	}

	var c struct {
		name, address, runtime, location string
		capacity                         int
	}
	create := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Add a server to the fleet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			attrs := map[string]any{"name": c.name}
			f := cmd.Flags()
			if f.Changed("address") {
				attrs["address"] = c.address
			}
			if f.Changed("runtime") {
				attrs["runtime"] = c.runtime
			}
			if f.Changed("capacity") {
				attrs["capacity"] = c.capacity
			}
			if f.Changed("location") {
				attrs["location"] = c.location
			}
			doc, err := o.client().do(cmd.Context(), http.MethodPost, "/servers/create", newResourceBody("servers", attrs))
			if err != nil {
				return err
			}
			r, err := doc.one()
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(cmd.OutOrStdout(), r.Raw)
			}
			return printServer(cmd.OutOrStdout(), r)
		},
	}
	cf := create.Flags()
	cf.StringVar(&c.name, "name", "", "server name (required)")
	cf.StringVar(&c.address, "address", "", "runtime endpoint and host name of clients' URLs, e.g. unix:///var/run/docker.sock")
	cf.StringVar(&c.runtime, "runtime", "", "runtime: sim or docker (the server's default when unset)")
	cf.IntVar(&c.capacity, "capacity", 0, "how many instances the server may hold")
	cf.StringVar(&c.location, "location", "", "where the server is")
	_ = create.MarkFlagRequired("name")

	cmd.AddCommand(list, show, create)
	return cmd
}

// printServer writes a server's fields, then its load when the server sent one.
func printServer(w io.Writer, r apiResource) error {
	pairs := fieldPairs(withoutAttr(r, "load"), []string{"name", "address", "runtime", "capacity", "location", "status", "created_at", "updated_at"})
	if load, ok := r.Attributes["load"].(map[string]any); ok {
		l := apiResource{Attributes: load}
		for _, k := range []string{"reachable", "error", "cpu_percent", "memory_used", "memory_total", "instances", "capacity", "clients", "last_heartbeat", "checked_at"} {
			v := attr(l, k)
			switch {
			case k == "error" && v == "-":
				continue
			case k == "memory_used" || k == "memory_total":
				if _, ok := load[k]; ok {
					v = humanBytes(intAttr(l, k))
				}
			}
			pairs = append(pairs, [2]string{"load." + k, v})
		}
	}
	return printPairs(w, pairs)
}

// withoutAttr is r without attribute k (shown separately).
func withoutAttr(r apiResource, k string) apiResource {
	attrs := make(map[string]any, len(r.Attributes))
	for name, v := range r.Attributes {
		if name != k {
			attrs[name] = v
		}
	}
	r.Attributes = attrs
	return r
}
