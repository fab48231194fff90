// Command hostdeck is the control plane (`hostdeck serve`) and its command-line
// client (servers, clients, tasks verbs against a running control plane).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"hostdeck/sampleapp"
)

func main() {
	// The sample client image runs this same binary as its web app and hooks.
	if len(os.Args) > 1 && os.Args[1] == "sample-app" {
		os.Exit(sampleapp.Main(os.Args[2:]))
	}
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "hostdeck:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "hostdeck",
		Short:         "A control plane for people who run clouds for others",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newImageCmd(), newServersCmd(), newClientsCmd(), newTasksCmd())
	return root
}
