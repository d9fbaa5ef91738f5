package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/postgres/pgtest"
	"github.com/nocagent/nocagent/ticketing/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// openDSN opens a store on dsn and closes it when the test ends.
func openDSN(t *testing.T, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newDB is a fresh database; every open is another agent's pool on it.
func newDB(t *testing.T) storetest.Opener {
	dsn := pgtest.NewDatabase(t)
	return func(t *testing.T) ticketing.Store {
		t.Helper()
		return openDSN(t, dsn)
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, newDB) }

func TestConcurrentAgents(t *testing.T) { storetest.RunConcurrent(t, newDB) }

func seedTicket(t *testing.T, s *Store, key string) ticketing.Ticket {
	t.Helper()
	var tk ticketing.Ticket
	err := s.WithTx(ctx, func(tx ticketing.Tx) error {
		seq, err := tx.NextTicketSeq(ctx)
		if err != nil {
			return err
		}
		tk = ticketing.Ticket{ID: fmt.Sprintf("NOC-%06d", seq), Title: "t", Priority: ticketing.P3,
			State: ticketing.StateNew, Category: "link", Source: ticketing.SourceMonitoring, DedupKey: key,
			Device: ticketing.DeviceContext{Name: "r1"}, OpenedAt: t0, UpdatedAt: t0}
		if err := tx.CreateTicket(ctx, seq, tk); err != nil {
			return err
		}
		return tx.AppendEvents(ctx, tk.ID, []ticketing.Event{{Seq: 1, At: t0, Actor: "monitoring", Kind: "opened"}})
	})
	if err != nil {
		t.Fatalf("seed %s: %v", key, err)
	}
	return tk
}

func TestEventsAreAppendOnly(t *testing.T) {
	s := openDSN(t, pgtest.NewDatabase(t))
	tk := seedTicket(t, s, "r1/link")
	for _, stmt := range []string{
		`UPDATE ticket_events SET note = 'rewritten' WHERE ticket_id = $1`,
		`DELETE FROM ticket_events WHERE ticket_id = $1`,
		`TRUNCATE ticket_events CASCADE`,
	} {
		var err error
		if strings.Contains(stmt, "$1") {
			_, err = s.pool.Exec(ctx, stmt, tk.ID)
		} else {
			_, err = s.pool.Exec(ctx, stmt)
		}
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", stmt, err)
		}
		// Through the store's error mapping it is a conflict.
		if ticketing.ErrorCode(storeErr(err, "x")) != ticketing.ECONFLICT {
			t.Errorf("%s: not mapped to ECONFLICT", stmt)
		}
	}
	got, err := s.TicketByID(ctx, tk.ID)
	if err != nil || len(got.Timeline) != 1 || got.Timeline[0].Note != "" {
		t.Errorf("timeline changed: %+v (%v)", got.Timeline, err)
	}
}

func TestOneOpenTicketPerKeyKeepsReason(t *testing.T) {
	s := openDSN(t, pgtest.NewDatabase(t))
	seedTicket(t, s, "r1/link")
	err := s.WithTx(ctx, func(tx ticketing.Tx) error {
		return tx.CreateTicket(ctx, 2, ticketing.Ticket{ID: "NOC-000002", Title: "t", Priority: ticketing.P3,
			State: ticketing.StateInProgress, Category: "link", Source: "monitoring", DedupKey: "r1/link", OpenedAt: t0, UpdatedAt: t0})
	})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT || !strings.Contains(err.Error(), "tickets_one_open_per_key") {
		t.Fatalf("second open ticket: %v, want ECONFLICT naming the index", err)
	}
	// A closed ticket does not block a new one for its key.
	err = s.WithTx(ctx, func(tx ticketing.Tx) error {
		return tx.CreateTicket(ctx, 2, ticketing.Ticket{ID: "NOC-000002", Title: "t", Priority: ticketing.P3,
			State: ticketing.StateClosed, Category: "link", Source: "monitoring", DedupKey: "r1/link", OpenedAt: t0, UpdatedAt: t0})
	})
	if err != nil {
		t.Errorf("closed ticket for the key: %v", err)
	}
	// The counter stays ahead of rows written without it.
	err = s.WithTx(ctx, func(tx ticketing.Tx) error {
		n, err := tx.NextTicketSeq(ctx)
		if err == nil && n != 3 {
			t.Errorf("next = %d, want 3", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrationsAppliedOnceByConcurrentAgents(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, dsn)
			if err == nil {
				_ = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("agent %d: %v", i, err)
		}
	}
	s := openDSN(t, dsn)
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var rows, v int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&rows, &v); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || v != len(ms) {
		t.Errorf("schema_migrations: %d rows, max %d; want %d", rows, v, len(ms))
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s := openDSN(t, dsn)
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, dsn)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("open newer schema: %v, want refusal", err)
	}
}

func TestMigrationRollsBackOnError(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x integer);`)},
		"migrations/0002_b.sql": {Data: []byte(`CREATE TABLE b (x integer); CREATE TABLE a (y integer);`)},
	}
	err = migrate(ctx, pool, fsys)
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b") {
		t.Fatalf("err = %v, want migration 0002_b to fail", err)
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Errorf("version = %d (%v), want 1", v, err)
	}
	var b *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('b')::text`).Scan(&b); err != nil || b != nil {
		t.Errorf("table b exists after failed migration (%v, %v)", b, err)
	}
	// The lock was released: migrating again (now fixed) works.
	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE b (x integer);`)}
	if err := migrate(ctx, pool, fsys); err != nil {
		t.Errorf("fixed migration: %v", err)
	}
}

func TestLoadMigrationsChecksNumbering(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "want version 2"},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}, "want version 2"},
		{"bad name", []string{"1_a.sql"}, "NNNN_name.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			if _, err := loadMigrations(fsys); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	// Nothing listens on port 1; the password must not appear in the error.
	_, err := Open(ctx, "postgres://nocagent:s3cret-pw@127.0.0.1:1/tickets?connect_timeout=2")
	if err == nil {
		t.Fatal("open succeeded with nothing listening")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error leaks the password: %v", err)
	}
	if _, err := Open(ctx, "postgres://u:s3cret-pw@127.0.0.1:1/x?pool_max_conns=notanumber"); err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("bad DSN: %v", err)
	}
}

func TestTimesComeBackInUTC(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	// A session in another zone must not change what the store returns.
	s := openDSN(t, dsn+" timezone=Asia/Shanghai")
	tk := seedTicket(t, s, "r1/link")
	got, err := s.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OpenedAt.Location() != time.UTC || !got.OpenedAt.Equal(t0) || got.Timeline[0].At.Location() != time.UTC {
		t.Errorf("opened_at = %v, event at %v; want %v in UTC", got.OpenedAt, got.Timeline[0].At, t0)
	}
}

// TestWithTxRetriesDeadlock makes two transactions lock two tickets in
// opposite orders: PostgreSQL aborts one as a deadlock victim, and WithTx
// runs it again, so both succeed.
func TestWithTxRetriesDeadlock(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s := openDSN(t, dsn)
	a, b := seedTicket(t, s, "r1/link"), seedTicket(t, s, "r2/link")
	var (
		mu    sync.Mutex
		calls int
		both  sync.WaitGroup
	)
	both.Add(2)
	run := func(first, second string) error {
		return s.WithTx(ctx, func(tx ticketing.Tx) error {
			mu.Lock()
			calls++
			retry := calls > 2
			mu.Unlock()
			if _, err := tx.TicketByID(ctx, first); err != nil {
				return err
			}
			if !retry {
				both.Done() // each holds its first lock before asking for the second
				both.Wait()
			}
			_, err := tx.TicketByID(ctx, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run(a.ID, b.ID) }()
	go func() { errs <- run(b.ID, a.ID) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("transaction: %v", err)
		}
	}
	if calls != 3 {
		t.Errorf("fn called %d times, want 3 (one deadlock victim retried)", calls)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{ticketing.Errorf(ticketing.ECONFLICT, "x"), false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
