package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// dialects are the names a migration may end with (0022_x.postgres.sql) to
// run on that database only; every other migration runs on both.
var dialects = []string{"sqlite", "postgres"}

// forDialect reports whether the migration version runs on the dialect named d.
func forDialect(version, d string) bool {
	for _, other := range dialects {
		if strings.HasSuffix(version, "."+other) {
			return other == d
		}
	}
	return true
}

// migrate applies the embedded migrations that schema_migrations does not list, in
// the order of their file names, all in one transaction: a failed file leaves the
// schema as it was. The dialect's lock makes concurrent starts wait for each other.
func migrate(ctx context.Context, db *sql.DB, d *Dialect) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	if d.MigrateLockSQL != "" {
		if _, err := tx.ExecContext(ctx, d.MigrateLockSQL); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read versions: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: read versions: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: read versions: %w", err)
	}

	ran := false
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if applied[version] || !forDialect(version, d.Name) {
			continue
		}
		ran = true
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: read %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			version, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate: record %s: %w", version, err)
		}
	}
	if ran {
		// A migration may have changed any table: lists kept on other replicas
		// must not outlive it.
		if err := countChanges(ctx, txdb{tx}, d, followedTables()); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
