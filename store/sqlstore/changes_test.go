package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"hostdeck/store/sqlite"
	"hostdeck/store/sqlstore"
)

func TestWrites(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"INSERT INTO clients (id) VALUES ($1)", []string{"clients"}},
		{"\n\t\tupdate instances SET state = $1 WHERE id = $2 RETURNING id", []string{"instances"}},
		{"UPDATE instance_elid_seq SET last_id = last_id + 1", nil},
		{"DELETE FROM machine_users WHERE machine_id = $1", []string{"machine_users"}},
		{"DELETE FROM users WHERE id = $1", []string{"users", "machine_users", "role_grants", "group_members", "grants", "app_persons"}},
		{"DELETE FROM applications WHERE id = $1 RETURNING id", []string{"applications", "app_requires", "app_persons"}},
		{"DELETE FROM projects WHERE id = $1", []string{"projects", "trs_projects"}},
		{"INSERT INTO tasks (id) VALUES ($1)", nil},
		{"SELECT id FROM clients WHERE status <> 'deleted'", nil},
		{"SELECT id FROM instances FOR UPDATE", nil},
	} {
		if d := cmp.Diff(tc.want, sqlstore.Writes(tc.query)); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, d)
		}
	}
}

// TestCascadesFollowed holds the declared cascades to the schema: every
// followed table whose rows a delete elsewhere removes (ON DELETE CASCADE) is
// counted when that delete runs.
func TestCascadesFollowed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostdeck.db")
	st, err := sqlite.Open(path) // applies the migrations
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT m.name, f."table", f.on_delete FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var child, parent, onDelete string
		if err := rows.Scan(&child, &parent, &onDelete); err != nil {
			t.Fatal(err)
		}
		n++
		if onDelete == "CASCADE" && sqlstore.Followed[child] && !slices.Contains(sqlstore.Cascades[parent], child) {
			t.Errorf("a delete from %s removes rows of %s, a followed table: add it to cascades[%q]", parent, child, parent)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no foreign key found: the schema query reads nothing")
	}
}
