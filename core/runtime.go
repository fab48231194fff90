package core

import (
	"context"
	"time"
)

// Runtime drives instances on servers of one kind (sim, docker). Every method takes
// the server the instance lives on. Errors: KindNotFound for an unknown ref,
// KindUnavailable when the server cannot be reached.
type Runtime interface {
	// Create makes (but does not start) an instance from spec. It is idempotent by
	// spec.Name: if an instance of that name exists, its ref is returned.
	Create(ctx context.Context, srv *Server, spec InstanceSpec) (ref string, err error)
	Start(ctx context.Context, srv *Server, ref string) error
	Stop(ctx context.Context, srv *Server, ref string) error
	Restart(ctx context.Context, srv *Server, ref string) error
	// Delete removes the instance and its volumes, and its rescue system when it
	// is in rescue (Rescuer); an unknown ref is not an error.
	Delete(ctx context.Context, srv *Server, ref string) error
	// Inspect reports an instance; for a spec that names a Network, Address is
	// the instance's address on that network.
	Inspect(ctx context.Context, srv *Server, ref string) (InstanceStatus, error)
	// List reports every instance hostdeck made on srv (those carrying LabelInstance).
	List(ctx context.Context, srv *Server) ([]RuntimeInstance, error)
	// Exec runs cmd inside the instance with stdin, capturing output and exit code.
	Exec(ctx context.Context, srv *Server, ref string, cmd []string, stdin []byte) (ExecResult, error)
	// Load reads the server's live load.
	Load(ctx context.Context, srv *Server) (ServerLoad, error)
}

// VolumeCopier is the optional ability to copy an instance's volumes to another
// instance, possibly on another server (client transfer).
type VolumeCopier interface {
	CopyVolumes(ctx context.Context, from *Server, fromRef string, to *Server, toRef string) error
}

// StdinWriter is the optional ability to write to the standard input of an
// instance whose spec keeps it open (InstanceSpec.Stdin), created or running:
// what is written before the start waits for its app to read it when it comes
// up. A secret given this way is in place at the start without a command run
// after it, and on no command line, in no environment and in no log.
type StdinWriter interface {
	WriteStdin(ctx context.Context, srv *Server, ref string, data []byte) error
}

// UsageMeter is the optional ability to measure an instance's usage: the bytes
// its volumes store and the bytes it has sent (a counter that only a restart of
// the instance resets). The satellite's project usage is made of these.
type UsageMeter interface {
	Usage(ctx context.Context, srv *Server, ref string) (InstanceUsage, error)
}

// InstanceUsage is one reading of an instance's usage.
type InstanceUsage struct {
	StoredBytes int64 `json:"stored_bytes"`
	EgressBytes int64 `json:"egress_bytes"`
}

// InstanceStatus is what a runtime reports of one instance.
type InstanceStatus struct {
	Ref     string        `json:"ref"`
	State   InstanceState `json:"state"`
	Healthy bool          `json:"healthy"` // answers its health check
	Address string        `json:"address,omitempty"`
	URL     string        `json:"url,omitempty"` // where its published HTTP port is reached
}

// RuntimeInstance is an instance as a runtime lists it.
type RuntimeInstance struct {
	Ref        string        `json:"ref"`
	Name       string        `json:"name"`
	InstanceID string        `json:"instance_id"` // the LabelInstance value
	ServerID   string        `json:"server_id"`   // the LabelServer value; "" on instances made before it
	State      InstanceState `json:"state"`
}

// ExecResult is the outcome of Exec.
type ExecResult struct {
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int    `json:"exit_code"`
}

// Notifier sends the e-mails core asks for, rendering them in the client's language.
type Notifier interface {
	// ClientReady tells the owner that the cloud is ready, with its URL, login and password.
	ClientReady(ctx context.Context, c *Client, password string) error
	// ClientExpiring tells the owner that the cloud expires soon.
	ClientExpiring(ctx context.Context, c *Client) error
	// PasswordReset sends a user the link that sets a new password for a
	// forgotten one, and when the link expires. A user without a usable
	// e-mail address is KindInvalid.
	PasswordReset(ctx context.Context, u *User, link string, expires time.Time) error
}

// Rescuer is the optional ability to boot an instance into rescue: the instance
// stops and a rescue system from image starts with the instance's volumes mounted
// under /mnt/rescue, with password (when not empty) as its access password.
// Unrescue removes the rescue system and starts the instance again. Both are
// idempotent, so that a retried task does no harm. Runtime.Delete of an
// instance in rescue removes its rescue system too.
type Rescuer interface {
	Rescue(ctx context.Context, srv *Server, ref string, image string, password string) error
	Unrescue(ctx context.Context, srv *Server, ref string) error
}
