package qp

import (
	"database/sql"
	"fmt"
	"testing"

	_ "modernc.org/sqlite"
	"hostdeck/store/sqlite"
)

func TestPlan(t *testing.T) {
	path := t.TempDir() + "/x.db"
	db, err := sqlite.Open(path)
	if err != nil { t.Fatal(err) }
	db.Close()
	c, _ := sql.Open("sqlite", path)
	for _, q := range []string{
		"SELECT id, name FROM clients WHERE status <> 'deleted' ORDER BY created_at, id LIMIT 50 OFFSET 97000",
		"SELECT count(*) FROM clients WHERE status <> 'deleted'",
		"SELECT id FROM clients WHERE status <> 'deleted' AND server_id = 's3' ORDER BY created_at, id LIMIT 50 OFFSET 12000",
	} {
		rows, err := c.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil { t.Fatal(err) }
		for rows.Next() {
			var a, b, d int; var s string
			rows.Scan(&a, &b, &d, &s)
			fmt.Println(q[:40], "|", s)
		}
	}
}
