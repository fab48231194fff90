package core

import (
	"context"
	"io"
	"os"
)

// SSHEndpoint says how to reach a host over SSH and which key it must present.
//
// Password and PrivateKey are held in clear only in memory, for the call that
// uses them; sealing them in the store is a later step's job.
type SSHEndpoint struct {
	Address string // host name or IP address
	Port    int    // 22 when zero
	User    string
	// Password and PrivateKey (PEM, without a passphrase) are the credentials;
	// either or both may be set, the key being tried first.
	Password   string
	PrivateKey string
	// HostKey is the host's pinned public key in authorized_keys form (as
	// ssh.MarshalAuthorizedKey writes it, trailing newline optional), or "" when
	// it is not pinned yet.
	HostKey string
}

// Remote runs commands on hosts and reads and writes their files, over SSH.
//
// Every method but HostKey refuses a host whose key is not pinned (ep.HostKey
// empty) with KindConflict, reason "host_key_unpinned", without connecting;
// trusting a key on first use is the caller's decision. A host that presents
// another key than the pinned one is refused with KindConflict, reason
// "host_key_changed" (the message and params "host", "pinned", "presented"
// name the host and both SHA256 fingerprints).
//
// Common errors: KindUnavailable when the host cannot be reached (refused,
// unreachable, timed out, connection lost), reason "host_unreachable";
// KindUnauthenticated, reason "host_auth_failed", when the host refuses the
// endpoint's credentials (hostdeck's credentials for the host, not the
// caller's: a face should not answer it as the caller's own 401);
// KindInvalid for a malformed endpoint (no address, user or credentials, a
// key that does not parse). A canceled ctx gives KindCanceled.
type Remote interface {
	// Run runs cmd through the user's shell with stdin (nil for none) and
	// returns its output, each stream cut at 1 MiB with a marker, and exit
	// code: a non-zero exit is a result, not an error. A command that outlives
	// ctx or the adapter's command timeout is killed and gives KindUnavailable,
	// reason "timed_out" (KindCanceled when ctx was canceled).
	Run(ctx context.Context, ep SSHEndpoint, cmd string, stdin io.Reader) (ExecResult, error)
	// Stat returns the size of the file at path: KindNotFound when there is
	// none, KindForbidden when the user may not see it.
	Stat(ctx context.Context, ep SSHEndpoint, path string) (int64, error)
	// ReadAt reads the bytes [off, off+n) of the file at path that exist,
	// without reading the rest of the file: fewer than n (none at all) past
	// its end, which is not an error. KindNotFound when there is no file,
	// KindForbidden when the user may not read it, KindInvalid for a negative
	// off or n.
	ReadAt(ctx context.Context, ep SSHEndpoint, path string, off int64, n int) ([]byte, error)
	// WriteFile replaces the file at path with data and mode: it writes a
	// temporary file beside it and renames it over path, so a reader sees the
	// old file or the new one, never a part. KindNotFound when the directory
	// does not exist, KindForbidden when the user may not write there.
	WriteFile(ctx context.Context, ep SSHEndpoint, path string, data []byte, mode os.FileMode) error
	// HostKey connects without checking the host's key and returns the key it
	// presents, in authorized_keys form without the trailing newline; it
	// neither authenticates nor pins. It is the only method that accepts an
	// endpoint whose HostKey is empty; a non-empty HostKey is ignored.
	HostKey(ctx context.Context, ep SSHEndpoint) (string, error)
}
