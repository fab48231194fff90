package sim

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"hostdeck/core"
)

// The state file is an SQLite database (see the package doc for why). Its
// schema: the instances table holds what memory holds (read whole by Open), the
// specs and files tables what is read when a call needs it, so that opening
// reads the narrow table only. Rows are found by the instance's row id, which
// memory keeps, so that no table has a second index, and a new instance is
// appended at the end of each table (consecutive changes touch the same few
// pages, whatever the number of instances, and a checkpoint has few to copy).
// (server, ref) is unique by what memory allows. Times are Unix nanoseconds.
const schema = `
CREATE TABLE instances (
	id           INTEGER PRIMARY KEY,
	server       TEXT NOT NULL,
	ref          TEXT NOT NULL,
	name         TEXT NOT NULL,
	listed       INTEGER NOT NULL, -- the spec carries core.LabelInstance
	list_id      TEXT NOT NULL,    -- its value
	list_server  TEXT NOT NULL,    -- the spec's core.LabelServer
	network      TEXT NOT NULL,
	addr         TEXT NOT NULL,
	state        TEXT NOT NULL,
	next         TEXT NOT NULL,
	next_at      INTEGER NOT NULL,
	rescue_image TEXT NOT NULL,
	created_at   INTEGER NOT NULL
);
CREATE TABLE specs (
	id   INTEGER PRIMARY KEY, -- the instance's
	spec TEXT NOT NULL        -- core.InstanceSpec as JSON
);
CREATE TABLE files (
	id      INTEGER NOT NULL, -- the instance's
	volume  TEXT NOT NULL,
	path    TEXT NOT NULL,
	content BLOB,
	PRIMARY KEY (id, volume, path)
);
`

// schemaVersion is the state file's PRAGMA user_version; a file of a later
// version is refused rather than misread.
const schemaVersion = 1

const sqliteHeader = "SQLite format 3\x00"

// fileStore is the store of a Sim with a state file.
type fileStore struct {
	db *sql.DB

	insInstance, insSpec, updState, delInstance, delSpec, delFiles *sql.Stmt
	selSpec, selFile, putFile, selVolume, delVolume, sumFiles      *sql.Stmt
}

// openFileStore opens the state file at path, making it when missing and
// converting it when it is the JSON file of an earlier version.
func openFileStore(path string) (*fileStore, error) {
	isJSON, err := legacyStateFile(path)
	if err != nil {
		return nil, err
	}
	if isJSON {
		if err := convertJSON(path); err != nil {
			return nil, err
		}
	}
	return openDB(path, "WAL")
}

// legacyStateFile reports whether the file at path is a JSON state file of an
// earlier version; a file that is neither that nor an SQLite database is an
// error. A missing or empty file is a new database.
func legacyStateFile(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read sim state: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, fmt.Errorf("read sim state: %w", err)
	}
	head = head[:n]
	switch {
	case n == 0, bytes.HasPrefix(head, []byte(sqliteHeader)):
		return false, nil
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")):
		return true, nil
	}
	return false, fmt.Errorf("sim state %s is neither an SQLite database nor a JSON state file", path)
}

// openDB opens the database at path with the journal mode given, making its
// tables when it is new. Its one connection is enough: the Sim holds mu around
// every call, and a second would only wait on SQLite's write lock.
func openDB(path, journal string) (*fileStore, error) {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode("+journal+")")
	v.Add("_pragma", "synchronous(FULL)") // in WAL mode, NORMAL would not fsync a commit
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sim state %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	f := &fileStore{db: db}
	if err := f.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sim state %s: %w", path, err)
	}
	return f, nil
}

// init makes the tables of a new database, refuses one of a later version and
// prepares the statements.
func (f *fileStore) init() error {
	var version int
	if err := f.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	switch {
	case version == 0:
		tx, err := f.db.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.Exec(schema); err != nil {
			return fmt.Errorf("make tables: %w", err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	case version > schemaVersion:
		return fmt.Errorf("written by a later version (schema %d, this one reads %d)", version, schemaVersion)
	default:
		// Every page, not only those Open reads: a spec or a volume that cannot
		// be read refuses to start too, rather than failing a call later. It
		// costs a fifth of opening (60 ms for 100,000 instances).
		if err := f.check(); err != nil {
			return err
		}
	}
	for p, q := range map[**sql.Stmt]string{
		&f.insInstance: `INSERT INTO instances (server, ref, name, listed, list_id, list_server, network, addr,
			state, next, next_at, rescue_image, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		&f.insSpec:     `INSERT INTO specs (id, spec) VALUES (?, ?)`,
		&f.updState:    `UPDATE instances SET state = ?, next = ?, next_at = ?, rescue_image = ? WHERE id = ?`,
		&f.delInstance: `DELETE FROM instances WHERE id = ?`,
		&f.delSpec:     `DELETE FROM specs WHERE id = ?`,
		&f.delFiles:    `DELETE FROM files WHERE id = ?`,
		&f.selSpec:     `SELECT spec FROM specs WHERE id = ?`,
		&f.selFile:     `SELECT content FROM files WHERE id = ? AND volume = ? AND path = ?`,
		&f.putFile: `INSERT INTO files (id, volume, path, content) VALUES (?, ?, ?, ?)
			ON CONFLICT (id, volume, path) DO UPDATE SET content = excluded.content`,
		&f.selVolume: `SELECT path, content FROM files WHERE id = ? AND volume = ?`,
		&f.delVolume: `DELETE FROM files WHERE id = ? AND volume = ?`,
		&f.sumFiles:  `SELECT COALESCE(SUM(LENGTH(content)), 0) FROM files WHERE id = ?`,
	} {
		st, err := f.db.Prepare(q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		*p = st
	}
	return nil
}

// check runs SQLite's quick_check: an error names what is corrupt.
func (f *fileStore) check() error {
	rows, err := f.db.Query("PRAGMA quick_check(5)")
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var res string
		if err := rows.Scan(&res); err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if res != "ok" {
			found = append(found, res)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if len(found) > 0 {
		return fmt.Errorf("corrupt: %s", strings.Join(found, "; "))
	}
	return nil
}

// load reads every instance back, calling fn with each one's server, its
// network and the image of its rescue system. A page that cannot be read is an
// error: the file is corrupt, and running on without it would lose instances.
func (f *fileStore) load(fn func(serverID string, in *instance, network, rescue string)) error {
	rows, err := f.db.Query(`SELECT id, server, ref, name, listed, list_id, list_server, network, addr,
		state, next, next_at, rescue_image FROM instances`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var server, ref, name, id, srvLabel, network, addr, state, next, rescue sql.RawBytes
	for rows.Next() {
		in := &instance{}
		if err := rows.Scan(&in.row, &server, &ref, &name, &in.listed, &id, &srvLabel, &network, &addr,
			&state, &next, &in.nextAt, &rescue); err != nil {
			return err
		}
		in.ref, in.name, in.id, in.addr = string(ref), string(name), string(id), string(addr)
		in.srvLabel = string(srvLabel)
		in.state, in.next = internState(state), internState(next)
		fn(string(server), in, string(network), string(rescue))
	}
	return rows.Err()
}

// internState returns the constant for a state read back, so that 100,000
// instances do not each hold a copy of "active".
func internState(b []byte) core.InstanceState {
	switch string(b) {
	case "":
		return ""
	case string(core.StateBuilding):
		return core.StateBuilding
	case string(core.StateActive):
		return core.StateActive
	case string(core.StateRebooting):
		return core.StateRebooting
	case string(core.StateStopped):
		return core.StateStopped
	case string(core.StateError):
		return core.StateError
	case string(core.StateDeleted):
		return core.StateDeleted
	case string(core.StateRescue):
		return core.StateRescue
	}
	return core.InstanceState(b)
}

func (f *fileStore) create(serverID string, in *instance, spec core.InstanceSpec, createdAt time.Time) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	tx, err := f.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f.insert(tx, serverID, in, spec.Network, "", b, createdAt.UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

func (f *fileStore) insert(tx *sql.Tx, serverID string, in *instance, network, rescue string, spec []byte, createdAt int64) error {
	res, err := tx.Stmt(f.insInstance).Exec(serverID, in.ref, in.name, in.listed, in.id, in.srvLabel, network, in.addr,
		string(in.state), string(in.next), in.nextAt, rescue, createdAt)
	if err != nil {
		return err
	}
	if in.row, err = res.LastInsertId(); err != nil {
		return err
	}
	_, err = tx.Stmt(f.insSpec).Exec(in.row, string(spec))
	return err
}

func (f *fileStore) update(in *instance, rescue string) error {
	res, err := f.updState.Exec(string(in.state), string(in.next), in.nextAt, rescue, in.row)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("instance %s is not in the state file", in.ref)
	}
	return nil
}

func (f *fileStore) remove(in *instance) error {
	tx, err := f.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, st := range []*sql.Stmt{f.delInstance, f.delSpec, f.delFiles} {
		if _, err := tx.Stmt(st).Exec(in.row); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (f *fileStore) volumes(in *instance) ([]string, error) {
	var b []byte
	if err := f.selSpec.QueryRow(in.row).Scan(&b); errors.Is(err, sql.ErrNoRows) {
		return nil, core.NotFound("instance", in.ref)
	} else if err != nil {
		return nil, err
	}
	var spec struct{ Volumes []core.Volume }
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("decode spec of %s: %w", in.ref, err)
	}
	names := make([]string, len(spec.Volumes))
	for i, v := range spec.Volumes {
		names[i] = v.Name
	}
	return names, nil
}

func (f *fileStore) readFile(in *instance, volume, path string) ([]byte, bool, error) {
	var b []byte
	err := f.selFile.QueryRow(in.row, volume, path).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (f *fileStore) writeFile(in *instance, volume, path string, data []byte) error {
	_, err := f.putFile.Exec(in.row, volume, path, data)
	return err
}

func (f *fileStore) copyVolumes(from *instance, fromVols []string, to *instance, toVols []string) error {
	type file struct {
		path    string
		content []byte
	}
	// Read first: the source may be the target.
	copies := make([][]file, len(fromVols))
	for i, vol := range fromVols {
		rows, err := f.selVolume.Query(from.row, vol)
		if err != nil {
			return err
		}
		for rows.Next() {
			var fl file
			if err := rows.Scan(&fl.path, &fl.content); err != nil {
				rows.Close()
				return err
			}
			copies[i] = append(copies[i], fl)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	tx, err := f.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	del, put := tx.Stmt(f.delVolume), tx.Stmt(f.putFile)
	for i, vol := range toVols {
		if _, err := del.Exec(to.row, vol); err != nil {
			return err
		}
		for _, fl := range copies[i] {
			if _, err := put.Exec(to.row, vol, fl.path, fl.content); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

func (f *fileStore) storedBytes(in *instance) (int64, error) {
	var n int64
	err := f.sumFiles.QueryRow(in.row).Scan(&n)
	return n, err
}

func (f *fileStore) close() error { return f.db.Close() }

// legacyServer and legacyInstance are the JSON state file of earlier versions,
// which rewrote it whole on every change.
type legacyServer struct {
	Instances map[string]legacyInstance `json:"instances"` // by ref
}

type legacyInstance struct {
	Spec        core.InstanceSpec            `json:"spec"`
	State       core.InstanceState           `json:"state"`
	Next        core.InstanceState           `json:"next,omitempty"`
	NextAt      time.Time                    `json:"next_at,omitzero"`
	Volumes     map[string]map[string][]byte `json:"volumes"`
	CreatedAt   time.Time                    `json:"created_at"`
	Addr        string                       `json:"addr,omitempty"`
	RescueImage string                       `json:"rescue_image,omitempty"`
}

// convertJSON replaces the JSON state file at path with a database holding the
// same instances. The database is built beside it and renamed over it, so a
// crash midway leaves the JSON file, converted again on the next open.
func convertJSON(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read sim state: %w", err)
	}
	var saved map[string]legacyServer
	if err := json.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("decode sim state %s: %w", path, err)
	}
	tmp := path + ".convert"
	for _, suffix := range []string{"-journal", "-wal", "-shm", ""} { // a hot journal first: never roll one into a new file
		if err := os.Remove(tmp + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("convert sim state: %w", err)
		}
	}
	f, err := openDB(tmp, "DELETE")
	if err != nil {
		return err
	}
	if err := f.importJSON(saved); err != nil {
		f.close()
		return fmt.Errorf("convert sim state %s: %w", path, err)
	}
	if err := f.close(); err != nil {
		return fmt.Errorf("convert sim state %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("convert sim state: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename itself
		d.Close()
	}
	return nil
}

// importJSON writes the instances of a JSON state file in one transaction.
func (f *fileStore) importJSON(saved map[string]legacyServer) error {
	tx, err := f.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	put := tx.Stmt(f.putFile)
	for serverID, sv := range saved {
		for ref, li := range sv.Instances {
			id, listed := li.Spec.Labels[core.LabelInstance]
			in := &instance{
				ref: ref, name: li.Spec.Name, id: id, listed: listed, srvLabel: li.Spec.Labels[core.LabelServer],
				addr: li.Addr, state: li.State, next: li.Next,
			}
			if in.next != "" && !li.NextAt.IsZero() {
				in.nextAt = li.NextAt.UnixNano()
			}
			var createdAt int64
			if !li.CreatedAt.IsZero() {
				createdAt = li.CreatedAt.UnixNano()
			}
			spec, err := json.Marshal(li.Spec)
			if err != nil {
				return err
			}
			if err := f.insert(tx, serverID, in, li.Spec.Network, li.RescueImage, spec, createdAt); err != nil {
				return err
			}
			for vol, files := range li.Volumes {
				for p, content := range files {
					if _, err := put.Exec(in.row, vol, p, content); err != nil {
						return err
					}
				}
			}
		}
	}
	return tx.Commit()
}
