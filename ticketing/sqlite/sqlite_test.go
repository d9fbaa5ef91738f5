package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tickets.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// seedTicket writes one open ticket with one event directly through a Tx.
func seedTicket(t *testing.T, s *Store, key string) ticketing.Ticket {
	t.Helper()
	var tk ticketing.Ticket
	err := s.WithTx(context.Background(), func(tx ticketing.Tx) error {
		seq, err := tx.NextTicketSeq(context.Background())
		if err != nil {
			return err
		}
		tk = ticketing.Ticket{
			ID: fmt.Sprintf("NOC-%06d", seq), Title: "t", Priority: ticketing.P3,
			State: ticketing.StateNew, Category: "link", Source: ticketing.SourceMonitoring, DedupKey: key,
			Device: ticketing.DeviceContext{Name: "r1"}, OpenedAt: t0, UpdatedAt: t0,
		}
		if err := tx.CreateTicket(context.Background(), seq, tk); err != nil {
			return err
		}
		return tx.AppendEvents(context.Background(), tk.ID, []ticketing.Event{{Seq: 1, At: t0, Actor: "monitoring", Kind: "opened"}})
	})
	if err != nil {
		t.Fatalf("seed ticket %s: %v", key, err)
	}
	return tk
}

func TestEventsAreAppendOnly(t *testing.T) {
	s, _ := openTest(t)
	tk := seedTicket(t, s, "r1/link")
	ctx := context.Background()
	for _, stmt := range []string{
		`UPDATE ticket_events SET note = 'rewritten' WHERE ticket_id = ?`,
		`DELETE FROM ticket_events WHERE ticket_id = ?`,
	} {
		_, err := s.w.ExecContext(ctx, stmt, tk.ID)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", stmt, err)
		}
	}
	got, err := s.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Timeline) != 1 || got.Timeline[0].Note != "" {
		t.Errorf("timeline changed: %+v", got.Timeline)
	}
	// A duplicate event number is refused too: history cannot be overwritten by insert.
	err = s.WithTx(ctx, func(tx ticketing.Tx) error {
		return tx.AppendEvents(ctx, tk.ID, []ticketing.Event{{Seq: 1, At: t0, Actor: "x", Kind: "note"}})
	})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("duplicate event seq: %v, want ECONFLICT", err)
	}
}

func TestOneOpenTicketPerKeyEnforced(t *testing.T) {
	s, _ := openTest(t)
	seedTicket(t, s, "r1/link")
	err := s.WithTx(context.Background(), func(tx ticketing.Tx) error {
		return tx.CreateTicket(context.Background(), 2, ticketing.Ticket{
			ID: "NOC-000002", Title: "t", Priority: ticketing.P3, State: ticketing.StateAcknowledged,
			Category: "link", Source: "monitoring", DedupKey: "r1/link", OpenedAt: t0, UpdatedAt: t0,
		})
	})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Fatalf("second open ticket for r1/link: %v, want ECONFLICT", err)
	}
	if !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("err %q lost the database's reason", err)
	}
}

func TestMigrationsAppliedOnce(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	var n, v int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || v != len(ms) {
		t.Errorf("schema_migrations: %d rows, max %d; want %d", n, v, len(ms))
	}
	var mode string
	if err := s.r.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	var fk int
	if err := s.w.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d (%v), want 1", fk, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if err := s2.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("after reopen: %d migrations (%v), want %d", n, err, len(ms))
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	s, path := openTest(t)
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', '')`); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("open newer schema: %v, want refusal", err)
	}
}

func TestMigrationRollsBackOnError(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"migrations/0002_b.sql": {Data: []byte(`CREATE TABLE b (x INTEGER); CREATE TABLE a (y INTEGER);`)},
	}
	err = migrate(context.Background(), db, fsys)
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b") {
		t.Fatalf("err = %v, want migration 0002_b to fail", err)
	}
	var v int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Errorf("version = %d (%v), want 1", v, err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table b exists after failed migration (%d, %v)", n, err)
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
			_, err := loadMigrations(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "x.db?mode=ro", "file:x.db"} {
		if _, err := Open(context.Background(), p); err == nil {
			t.Errorf("Open(%q) succeeded, want error", p)
		}
	}
}

func TestDueOutboxKeepsTicketOrder(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	tk := seedTicket(t, s, "r1/link")
	err := s.WithTx(ctx, func(tx ticketing.Tx) error {
		if err := tx.AppendEvents(ctx, tk.ID, []ticketing.Event{{Seq: 2, At: t0, Actor: "monitoring", Kind: "resolved"}}); err != nil {
			return err
		}
		var msgs []ticketing.OutboxMessage
		for seq := 1; seq <= 2; seq++ {
			msgs = append(msgs, ticketing.OutboxMessage{TicketID: tk.ID, EventSeq: seq, EventID: ticketing.EventID(tk.ID, seq),
				Kind: "opened", Channel: "webhook", Payload: []byte(`{}`), CreatedAt: t0, NextAttemptAt: t0})
		}
		return tx.EnqueueOutbox(ctx, msgs)
	})
	if err != nil {
		t.Fatal(err)
	}
	due, err := s.DueOutbox(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].EventSeq != 1 {
		t.Fatalf("due = %+v (%v), want only event 1", due, err)
	}
	// Event 1 failing and waiting does not let event 2 overtake it.
	if err := s.MarkFailed(ctx, due[0].ID, 1, t0.Add(time.Minute), "503"); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueOutbox(ctx, t0.Add(30*time.Second), 10); len(due) != 0 {
		t.Errorf("due while event 1 backs off = %+v, want none", due)
	}
	due, _ = s.DueOutbox(ctx, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "503" {
		t.Fatalf("due after backoff = %+v", due)
	}
	if err := s.MarkDelivered(ctx, due[0].ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueOutbox(ctx, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].EventSeq != 2 {
		t.Errorf("due after delivering 1 = %+v, want event 2", due)
	}
	if n, _ := s.OutboxBacklog(ctx); n != 1 {
		t.Errorf("backlog = %d, want 1", n)
	}
}
