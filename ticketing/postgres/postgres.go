// Package postgres stores tickets in PostgreSQL (github.com/jackc/pgx/v5):
// the store for several agents sharing one ticket database.
//
// The rules the Service relies on hold across agents because the database
// enforces or serialises them:
//
//   - One open ticket per dedup key: a partial unique index, and a
//     transaction-scoped advisory lock on the key taken before a Tx looks the
//     key up, so a second agent waits for the first and then finds its
//     ticket instead of failing on the index.
//   - Tickets read in a Tx are locked (SELECT ... FOR UPDATE), so two agents
//     acting on one ticket run one after the other and never lose an update.
//   - Ticket and problem numbers come from a counter row updated in the
//     writing transaction: unique, increasing and without gaps (a rollback
//     gives the number back); ticket creation is serialised on that row.
//   - One open problem per fingerprint: a partial unique index plus an
//     advisory lock on the fingerprint.
//   - The timeline is append-only: a trigger refuses UPDATE, DELETE and
//     TRUNCATE on ticket_events.
//   - Outbox messages are leased: DueOutbox claims rows with
//     SELECT ... FOR UPDATE SKIP LOCKED and sets claimed_until, so two
//     dispatchers never hold the same message at once.
//
// Constraint violations are reported as ticketing ECONFLICT errors, as the
// SQLite store does.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nocagent/nocagent/ticketing"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DefaultOutboxLease is how long a dispatcher holds the messages DueOutbox
// gave it before another dispatcher may take them. It must exceed the time
// one Dispatcher pass takes to send a batch; a shorter lease risks a second
// (harmless, idempotent) delivery, a longer one delays messages of a
// dispatcher that crashed mid-pass.
const DefaultOutboxLease = time.Minute

// Advisory lock keys. The single-bigint and two-int lock spaces of
// PostgreSQL do not overlap, so migrateLock cannot collide with the
// per-key locks.
const (
	migrateLock int64 = 0x6e6f636167656e74 // "nocagent"
	lockDedup   int32 = 1
	lockProblem int32 = 2
	// lockIdempotency serialises retries of one Idempotency-Key.
	lockIdempotency int32 = 3
)

// Store is a ticketing.Store on a PostgreSQL database. It is safe for
// concurrent use, and several Stores (agents) may share one database.
type Store struct {
	pool  *pgxpool.Pool
	lease time.Duration
	where string // host/database, for errors: never the password
}

// Option configures Open.
type Option func(*Store)

// WithOutboxLease sets how long DueOutbox leases the messages it returns
// (default DefaultOutboxLease).
func WithOutboxLease(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.lease = d
		}
	}
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, pool settings such as pool_max_conns included), applies
// pending migrations and returns the store. Agents starting at once migrate
// one after the other under an advisory lock.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in parse errors.
		return nil, fmt.Errorf("open ticket store: %w", err)
	}
	s := &Store{lease: DefaultOutboxLease,
		where: fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	for _, o := range opts {
		o(s)
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Times come back in UTC, as from the SQLite store, whatever the
		// process's or server's zone.
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open ticket store %s: %w", s.where, err)
	}
	s.pool = pool
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open ticket store %s: %w", s.where, err)
	}
	if err := migrate(ctx, pool, migrationFS); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate ticket store %s: %w", s.where, err)
	}
	return s, nil
}

// Close closes the pool. It returns an error only to satisfy io.Closer like
// the SQLite store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads migrations/NNNN_name.sql and checks that versions run
// 1, 2, 3... without gaps or duplicates.
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
// one transaction (PostgreSQL DDL is transactional: a failing step leaves
// the schema as it was). A session advisory lock makes agents that start
// together take turns; the later ones find nothing left to do.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even if ctx was cancelled. If
		// this fails the connection is broken, and the lock went with it.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrateLock); err != nil {
			conn.Conn().Close(uctx) //nolint:errcheck // closing is the fallback
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade nocagent", current, len(ms))
	}
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", s.where, err)
	}
	return v, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

var _ ticketing.Store = (*Store)(nil)
