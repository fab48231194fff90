// Package postgres opens hostdeck's store in PostgreSQL, for deployments that run
// several hostdeck replicas against one database. It uses pgx through database/sql.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"hostdeck/store/sqlstore"
)

// migrateLockKey is the advisory lock that makes replicas starting at once apply
// migrations one after the other ("hostdeck" in ASCII).
const migrateLockKey = 0x686f73746465636b

// Dialect describes PostgreSQL to sqlstore.
var Dialect = sqlstore.Dialect{
	Name:                  "postgres",
	IsUniqueViolation:     func(err error) bool { return hasCode(err, "23505") },
	IsForeignKeyViolation: func(err error) bool { return hasCode(err, "23503") },
	SkipLocked:            true,
	LockServersSQL:        `SELECT id FROM servers ORDER BY id FOR UPDATE`,
	MigrateLockSQL:        fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, migrateLockKey),
	AuditNumberSQL:        `nextval('audit_numbers')`,
	// Concurrent writers of a table (the task runner's workers, replicas) each
	// count their change on one of 16 rows, so they seldom queue for one.
	ChangeShards: 16,
}

func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// Open connects to the database at dsn (a postgres:// URL or key=value string),
// checks that it answers and applies migrations.
func Open(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s, err := sqlstore.New(ctx, db, db, Dialect)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
