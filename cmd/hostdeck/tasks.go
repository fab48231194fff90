package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func newTasksCmd() *cobra.Command { return tasksCmd(defaultCLIEnv()) }

// tasksCmd is `hostdeck tasks`: the asynchronous jobs behind slow requests.
func tasksCmd(env cliEnv) *cobra.Command {
	o := &cliOpts{env: env}
	cmd := &cobra.Command{
		Use:   "tasks",
		Short: "List, show and wait for asynchronous tasks",
		Args:  cobra.ArbitraryArgs,
	}
	o.addPersistentFlags(cmd)
	cmd.RunE = runGroup

	var status, kind string
	list := o.listCmd("List tasks", "/tasks",
		func() map[string]string { return map[string]string{"status": status, "kind": kind} },
		[]string{"ID", "KIND", "STATUS", "PROGRESS", "TARGET", "CREATOR", "CREATED_AT", "MESSAGE"},
		func(r apiResource) []string {
			target := "-"
			if t, id := attr(r, "target_type"), attr(r, "target_id"); t != "-" || id != "-" {
				target = t + "/" + id
			}
			return []string{r.ID, attr(r, "kind"), attr(r, "status"), attr(r, "progress") + "%",
				target, attr(r, "creator"), attr(r, "created_at"), attr(r, "message")}
		})
	list.Flags().StringVar(&status, "status", "", "only tasks in this status: PENDING, STARTED, SUCCESS, FAILURE, RETRY or REVOKED")
	list.Flags().StringVar(&kind, "kind", "", "only tasks of this kind")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a task",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := o.client().get(cmd.Context(), taskPath(args[0]))
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(cmd.OutOrStdout(), r.Raw)
			}
			return printTask(cmd.OutOrStdout(), r)
		},
	}

	var timeout time.Duration
	wait := &cobra.Command{
		Use:   "wait ID",
		Short: "Wait for a task to finish, showing its progress",
		Long: `Wait for a task to finish, showing its progress on stderr.

Exits 0 when the task succeeds; prints the task's error and exits non-zero when it
fails, is revoked or does not finish within --timeout.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := waitTask(cmd, o, args[0], timeout)
			if err != nil {
				return err
			}
			return reportTask(cmd.OutOrStdout(), o, r)
		},
	}
	addTimeoutFlag(wait, &timeout)

	cmd.AddCommand(list, show, wait)
	return cmd
}

func taskPath(id string) string { return "/tasks/" + url.PathEscape(id) }

func addTimeoutFlag(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "timeout", 10*time.Minute, "how long to wait for the task")
}

func printTask(w io.Writer, r apiResource) error {
	return printFields(w, r, []string{"kind", "status", "progress", "message", "error", "result", "attempts",
		"creator", "target_type", "target_id", "created_at", "started_at", "finished_at"})
}

// reportTask prints a finished, successful task: the resource with --json, else one line.
func reportTask(w io.Writer, o *cliOpts, r apiResource) error {
	if o.json {
		return printJSON(w, r.Raw)
	}
	line := fmt.Sprintf("task %s %s", r.ID, attr(r, "status"))
	if m := attr(r, "message"); m != "-" {
		line += ": " + m
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// taskFailed is a task that ended in FAILURE or REVOKED.
type taskFailed struct {
	id, status, msg string
}

func (e *taskFailed) Error() string {
	return fmt.Sprintf("task %s %s: %s", e.id, e.status, e.msg)
}

// waitTask polls a task until it is SUCCESS (returned), FAILURE or REVOKED (a
// *taskFailed), or the timeout passes. Progress goes to stderr: a bar on a
// terminal, otherwise a line whenever status, progress or message change.
// Failed polls (a restarting server) are retried for a while.
func waitTask(cmd *cobra.Command, o *cliOpts, id string, timeout time.Duration) (apiResource, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	c := o.client()
	errw := cmd.ErrOrStderr()
	var bar *progressbar.ProgressBar
	if o.env.terminal(errw) {
		bar = progressbar.NewOptions(100,
			progressbar.OptionSetWriter(errw),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
		)
		defer func() {
			bar.Exit()
			fmt.Fprintln(errw)
		}()
	}
	const patience = 30 * time.Second
	var (
		last         apiResource
		lastLine     string
		failingSince time.Time
		lastErr      error
	)
	tick := time.NewTicker(o.env.poll)
	defer tick.Stop()
	for {
		r, err := c.get(ctx, taskPath(id))
		switch {
		case err == nil:
			failingSince, lastErr = time.Time{}, nil
			last = r
			status, progress, msg := attr(r, "status"), int(intAttr(r, "progress")), attr(r, "message")
			if msg == "-" {
				msg = ""
			}
			if bar != nil {
				bar.Describe(status + " " + msg)
				bar.Set(min(max(progress, 0), 100))
			} else if line := fmt.Sprintf("task %s %s %d%% %s", id, status, progress, msg); line != lastLine {
				fmt.Fprintln(errw, line)
				lastLine = line
			}
			switch status {
			case "SUCCESS":
				return r, nil
			case "FAILURE", "REVOKED":
				e := attr(r, "error")
				if e == "-" {
					e = "no error given"
				}
				return r, &taskFailed{id: id, status: status, msg: e}
			}
		case ctx.Err() != nil:
			// The timeout is reported below.
		default:
			var apiErr *apiError
			if errors.As(err, &apiErr) && apiErr.HTTPStatus < 500 {
				return apiResource{}, err // not found, forbidden: asking again will not help
			}
			if last.ID == "" {
				return apiResource{}, err // never reached it: not a restart in progress
			}
			lastErr = err
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > patience {
				return apiResource{}, err
			}
		}
		select {
		case <-ctx.Done():
			if cmd.Context().Err() != nil {
				return apiResource{}, cmd.Context().Err()
			}
			state := "no answer yet"
			if last.ID != "" {
				state = fmt.Sprintf("last %s %s%%", attr(last, "status"), attr(last, "progress"))
			}
			if lastErr != nil {
				state += "; last poll: " + lastErr.Error()
			}
			return apiResource{}, fmt.Errorf("task %s did not finish within %s (%s)", id, timeout, state)
		case <-tick.C:
		}
	}
}
