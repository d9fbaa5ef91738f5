// Package sqlite stores tickets in an embedded SQLite file (modernc.org/sqlite,
// no cgo): the single-process default of nocagent.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	_ "modernc.org/sqlite" // registers driver "sqlite"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a ticketing.Store on one SQLite file. It is safe for concurrent
// use. Writes go through one connection, so transactions of this process
// queue in Go instead of spinning on SQLITE_BUSY; reads use a pool and, with
// WAL, never wait for the writer.
type Store struct {
	w    *sql.DB
	r    *sql.DB
	path string
}

// Open opens (creating if needed) the database file at path, applies pending
// migrations and returns the store. path is a plain file name.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open ticket store %q: want a plain file path", path)
	}
	// busy_timeout covers other processes on the same file; foreign keys are
	// per connection in SQLite, so every connection sets them.
	common := "_busy_timeout=5000&_foreign_keys=1"
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open ticket store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{w: w, path: path}
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open ticket store %s: %w", path, err)
	}
	if err := migrate(ctx, w, migrationFS); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("migrate ticket store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open ticket store %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads migrations/NNNN_name.sql and checks that versions run
// 1, 2, 3... without gaps or duplicates, so a mis-numbered file fails every
// test instead of silently skipping a step on some database.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	files, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		m := migrationName.FindStringSubmatch(path.Base(f))
		if m == nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", f)
		}
		v, _ := strconv.Atoi(m[1])
		body, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", f, err)
		}
		ms = append(ms, migration{version: v, name: m[2], sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d (versions must be 1, 2, 3... without gaps)", m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies pending migrations, each with its schema_migrations row in
// one transaction: a failing migration leaves the schema as it was.
//
// Hand-written rather than pressly/goose (DESIGN.md allows "embedded SQL
// migrations of equal rigour"): this is ~50 lines against a new dependency,
// and it keeps goose's guarantees that matter here: ordered numbered files,
// one transaction per step, a version table, and a refusal to run on a
// database newer than the binary.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade nocagent", current, len(ms))
	}
	for _, m := range ms[current:] {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %04d_%s: begin: %w", m.version, m.name, err)
	}
	defer func() { _ = tx.Rollback() }()
	// Another process may have applied it since we read the version.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, formatTime(time.Now())); err != nil {
		return fmt.Errorf("migration %04d_%s: record version: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %04d_%s: commit: %w", m.version, m.name, err)
	}
	return nil
}

// timeLayout is fixed-width UTC, so stored times compare correctly as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

var _ ticketing.Store = (*Store)(nil)
