package trs

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"hostdeck/api/rsproto"
	"hostdeck/core"
)

// info is GET /v1/info: the version and, when configured, the licence block.
func (f *face) info(w http.ResponseWriter, r *http.Request) error {
	body := map[string]any{"version": f.version}
	if f.license != nil {
		body["license"] = f.license
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"info": body})
	return nil
}

// maxTaskList bounds GET /v1/tasks/ ("the ids of the latest tasks").
const (
	defaultTaskList = 100
	maxTaskList     = 1000
)

// listTasks is GET /v1/tasks/: the ids of the latest tasks, newest first. ?limit=
// (1..1000, default 100) says how many.
func (f *face) listTasks(w http.ResponseWriter, r *http.Request) error {
	limit := defaultTaskList
	if v := optionalQuery(r, "limit"); v != nil {
		n, err := strconv.Atoi(*v)
		if err != nil || n < 1 || n > maxTaskList {
			return core.Invalid("limit", "limit must be an integer from 1 to %d", maxTaskList)
		}
		limit = n
	}
	tasks, _, err := f.svc.ListTasks(r.Context(), core.TaskFilter{Page: core.Page{Limit: limit, Sort: []string{"-created_at"}}})
	if err != nil {
		return err
	}
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	rsproto.WriteJSON(w, http.StatusOK, map[string]any{"tasks": ids})
	return nil
}

// celeryTask is a task as celery's AsyncResult describes it, with hostdeck's
// progress and dates.
type celeryTask struct {
	TaskID      string          `json:"task_id"`
	Status      core.TaskStatus `json:"status"`
	Name        string          `json:"name"`
	Result      json.RawMessage `json:"result"`
	Traceback   *string         `json:"traceback"`
	Progress    int             `json:"progress"`
	Message     string          `json:"message,omitempty"`
	Retries     int             `json:"retries"`
	DateCreated string          `json:"date_created"`
	DateStarted *string         `json:"date_started"`
	DateDone    *string         `json:"date_done"`
}

func celery(t *core.Task) celeryTask {
	c := celeryTask{
		TaskID: t.ID, Status: t.Status, Name: t.Kind, Result: t.Result, Progress: t.Progress, Message: t.Message,
		Retries: max(t.Attempts-1, 0), DateCreated: isoTime(&t.CreatedAt),
	}
	if c.Result == nil {
		c.Result = json.RawMessage("null")
	}
	if t.Error != "" {
		c.Traceback = &t.Error
	}
	if t.StartedAt != nil {
		s := isoTime(t.StartedAt)
		c.DateStarted = &s
	}
	if t.FinishedAt != nil {
		s := isoTime(t.FinishedAt)
		c.DateDone = &s
	}
	return c
}

func isoTime(t *time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// getTask is GET /v1/tasks/{task_id}.
func (f *face) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := f.svc.GetTask(r.Context(), r.PathValue("task_id"))
	if err != nil {
		return err
	}
	rsproto.WriteJSON(w, http.StatusOK, celery(t))
	return nil
}
