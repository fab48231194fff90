package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"

	"github.com/pkg/sftp"

	"hostdeck/core"
)

// Stat implements core.Remote.
func (cl *Client) Stat(ctx context.Context, ep core.SSHEndpoint, name string) (int64, error) {
	var size int64
	err := cl.files(ctx, ep, name, func(sc *sftp.Client) error {
		fi, err := sc.Stat(name)
		if err != nil {
			return err
		}
		size = fi.Size()
		return nil
	})
	return size, err
}

// ReadAt implements core.Remote. It asks for at most the bytes that exist, so
// a large n past a small file's end allocates and reads nothing more.
func (cl *Client) ReadAt(ctx context.Context, ep core.SSHEndpoint, name string, off int64, n int) ([]byte, error) {
	if off < 0 {
		return nil, core.Invalid("offset", "offset must not be negative")
	}
	if n < 0 {
		return nil, core.Invalid("length", "length must not be negative")
	}
	var out []byte
	err := cl.files(ctx, ep, name, func(sc *sftp.Client) error {
		f, err := sc.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		want := int64(n)
		if rest := fi.Size() - off; rest < want {
			want = max(rest, 0)
		}
		buf := make([]byte, want)
		got, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		out = buf[:got]
		return nil
	})
	return out, err
}

// WriteFile implements core.Remote. The temporary file is a dot file in the
// same directory, removed when the write fails.
func (cl *Client) WriteFile(ctx context.Context, ep core.SSHEndpoint, name string, data []byte, mode os.FileMode) error {
	return cl.files(ctx, ep, name, func(sc *sftp.Client) error {
		var suffix [8]byte
		rand.Read(suffix[:])
		tmp := path.Join(path.Dir(name), "."+path.Base(name)+".tmp-"+hex.EncodeToString(suffix[:]))
		f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return err
		}
		ok := false
		defer func() {
			if !ok {
				f.Close()
				sc.Remove(tmp)
			}
		}()
		// Chmod after creating: the server's umask applies to the create.
		if err := f.Chmod(mode.Perm()); err != nil {
			return err
		}
		if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		// posix-rename replaces the target; plain SFTP rename refuses to.
		if err := sc.PosixRename(tmp, name); err != nil {
			if _, ok := sc.HasExtension("posix-rename@openssh.com"); ok {
				return err
			}
			sc.Remove(name)
			if err := sc.Rename(tmp, name); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
}

// files runs f with the SFTP client of a pooled connection to ep and gives
// SFTP's errors their kinds.
func (cl *Client) files(ctx context.Context, ep core.SSHEndpoint, name string, f func(*sftp.Client) error) error {
	return cl.with(ctx, ep, func(c *conn) error {
		sc, err := c.sftpClient()
		if err != nil {
			return err
		}
		// SFTP requests take no context: closing the connection when ctx ends
		// makes them fail at once.
		stop := context.AfterFunc(ctx, c.kill)
		err = f(sc)
		if !stop() {
			return core.Wrap(core.KindUnavailable, errors.Join(err, ctx.Err()), "file operation on %s stopped", hostPort(ep))
		}
		return fileError(ep, name, err)
	})
}

func fileError(ep core.SSHEndpoint, name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist):
		return &core.Error{Kind: core.KindNotFound, Reason: "file_not_found", Err: err,
			Message: "no file " + name + " on " + hostPort(ep)}
	case errors.Is(err, os.ErrPermission):
		return &core.Error{Kind: core.KindForbidden, Reason: "file_permission_denied", Err: err,
			Message: "permission denied on " + name + " on " + hostPort(ep)}
	case errors.Is(err, sftp.ErrSSHFxConnectionLost), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errBroken{err}
	}
	return core.Wrap(core.KindInternal, err, "file operation on %s on %s", name, hostPort(ep))
}
