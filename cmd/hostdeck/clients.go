package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

func newClientsCmd() *cobra.Command { return clientsCmd(defaultCLIEnv()) }

// clientsCmd is `hostdeck clients`: alfa customers and their clouds. Creating,
// rebooting and deleting are asynchronous: each answers with a task, which
// --wait follows to the end.
func clientsCmd(env cliEnv) *cobra.Command {
	o := &cliOpts{env: env}
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "List, show, create, reboot and delete clients",
		Args:  cobra.ArbitraryArgs,
	}
	o.addPersistentFlags(cmd)
	cmd.RunE = runGroup

	var serverID, status string
	list := o.listCmd("List clients", "/clients",
		func() map[string]string { return map[string]string{"server_id": serverID, "status": status} },
		[]string{"ID", "NAME", "EMAIL", "STATUS", "SERVER_ID", "AVAILABLE", "URL", "EXPIRE_DATE"},
		func(r apiResource) []string {
			return []string{r.ID, attr(r, "name"), attr(r, "email"), attr(r, "status"), attr(r, "server_id"),
				attr(r, "available"), attr(r, "url"), attr(r, "expire_date")}
		})
	list.Flags().StringVar(&serverID, "server-id", "", "only clients on this server")
	list.Flags().StringVar(&status, "status", "", "only clients in this status: creating, active, failed, transferring, deleting or deleted")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a client",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := o.client().get(cmd.Context(), clientPath(args[0]))
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(cmd.OutOrStdout(), r.Raw)
			}
			return printFields(cmd.OutOrStdout(), r, []string{"name", "email", "phone", "lang", "status", "server_id",
				"expire_date", "demo", "url", "available", "owner_login", "created_at", "updated_at"})
		},
	}

	cmd.AddCommand(list, show, clientsCreateCmd(o), clientTaskCmd(o, "reboot", http.MethodPost, "Reboot a client's instance"),
		clientTaskCmd(o, "delete", http.MethodDelete, "Delete a client and its instance"))
	return cmd
}

func clientPath(id string) string { return "/clients/" + url.PathEscape(id) }

func clientsCreateCmd(o *cliOpts) *cobra.Command {
	var c struct {
		name, email, serverID, expire, phone, lang string
		wait                                       bool
		timeout                                    time.Duration
	}
	cmd := &cobra.Command{
		Use:   "create --name NAME --email EMAIL",
		Short: "Create a client; its cloud is built by a task",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			attrs := map[string]any{"name": c.name, "email": c.email}
			f := cmd.Flags()
			if f.Changed("server-id") {
				attrs["server_id"] = c.serverID
			}
			if f.Changed("expire-date") {
				if _, err := time.Parse(time.DateOnly, c.expire); err != nil {
					return fmt.Errorf("--expire-date %q: want YYYY-MM-DD", c.expire)
				}
				attrs["expire_date"] = c.expire
			}
			if f.Changed("phone") {
				attrs["phone"] = c.phone
			}
			if f.Changed("lang") {
				if c.lang != "ru" && c.lang != "en" {
					return fmt.Errorf("--lang %q: want ru or en", c.lang)
				}
				attrs["lang"] = c.lang
			}
			doc, err := o.client().do(cmd.Context(), http.MethodPost, "/clients/create", newResourceBody("clients", attrs))
			if err != nil {
				return err
			}
			task, err := doc.one()
			if err != nil {
				return err
			}
			client, _ := doc.included("clients")
			if !o.json {
				clientID := client.ID
				if clientID == "" {
					clientID = attr(task, "target_id")
				}
				if err := printPairs(cmd.OutOrStdout(), [][2]string{{"client", clientID}, {"task", task.ID}}); err != nil {
					return err
				}
			}
			if c.wait {
				var werr error
				task, werr = waitTask(cmd, o, task.ID, c.timeout)
				if werr != nil {
					return werr
				}
			}
			if o.json {
				// One document for scripts: the task (final when waited for) and the client.
				return printJSON(cmd.OutOrStdout(), map[string]any{"data": task.Raw, "included": doc.Included})
			}
			if c.wait {
				return reportTask(cmd.OutOrStdout(), o, task)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.name, "name", "", "client name (required)")
	f.StringVar(&c.email, "email", "", "contact e-mail (required)")
	f.StringVar(&c.serverID, "server-id", "", "server to place the client on; the control plane picks one when unset")
	f.StringVar(&c.expire, "expire-date", "", "expiry date, YYYY-MM-DD")
	f.StringVar(&c.phone, "phone", "", "contact phone")
	f.StringVar(&c.lang, "lang", "", "language of the client's e-mails: ru or en")
	f.BoolVar(&c.wait, "wait", false, "wait for the creation task to finish")
	addTimeoutFlag(cmd, &c.timeout)
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// clientTaskCmd is a verb on one client that answers 202 with a task:
// `clients reboot ID` (POST /clients/{id}/reboot), `clients delete ID` (DELETE /clients/{id}/delete).
func clientTaskCmd(o *cliOpts, verb, method, short string) *cobra.Command {
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := o.client().do(cmd.Context(), method, clientPath(args[0])+"/"+verb, nil)
			if err != nil {
				return err
			}
			task, err := doc.one()
			if err != nil {
				return err
			}
			if !o.json {
				if err := printPairs(cmd.OutOrStdout(), [][2]string{{"task", task.ID}}); err != nil {
					return err
				}
			}
			if wait {
				if task, err = waitTask(cmd, o, task.ID, timeout); err != nil {
					return err
				}
				if !o.json {
					return reportTask(cmd.OutOrStdout(), o, task)
				}
			}
			if o.json {
				return printJSON(cmd.OutOrStdout(), task.Raw)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the task to finish")
	addTimeoutFlag(cmd, &timeout)
	return cmd
}
