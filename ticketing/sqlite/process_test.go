package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nocagent/nocagent/ticketing"
)

// TestMigration0002UpgradesExistingData opens a database written by the
// first release (0001 only, with a ticket in it) and checks the upgrade keeps
// the ticket and gives it the new fields' defaults.
func TestMigration0002UpgradesExistingData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path+"?_txlock=immediate&_foreign_keys=1")
	if err != nil {
		t.Fatal(err)
	}
	first, err := fs.ReadFile(migrationFS, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, fstest.MapFS{"migrations/0001_init.sql": {Data: first}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO tickets (seq, id, dedup_key, state, priority, category, source, title, device_name, device, opened_at, updated_at)
		VALUES (1, 'NOC-000001', 'r1/link', 'new', 'P2', 'link', 'monitoring', 'down', 'r1', '{"name":"r1"}', ?, ?)`,
		formatTime(t0), formatTime(t0)); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer s.Close()
	tk, err := s.TicketByID(ctx, "NOC-000001")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Tier != 1 || tk.Assignee != "" || tk.Intake != nil || tk.ClosedAt != nil || tk.WaitingCustomer {
		t.Errorf("upgraded ticket = %+v", tk)
	}
}

func TestProcessTablesEnforceRules(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	tk := seedTicket(t, s, "r1/link")
	err := s.WithTx(ctx, func(tx ticketing.Tx) error {
		for _, seq := range []int64{1, 2} {
			p := ticketing.Problem{ID: "PRB-00000" + string(rune('0'+seq)), Fingerprint: "fp", Title: "t", State: ticketing.ProblemOpen, OpenedAt: t0}
			if err := tx.CreateProblem(ctx, seq, p); err != nil {
				return err
			}
		}
		return nil
	})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("two open problems for one fingerprint: %v, want conflict", err)
	}
	sv := ticketing.Survey{TicketID: tk.ID, Customer: "acme", Rating: ticketing.Neutral, Actor: "customer:acme", At: t0}
	err = s.WithTx(ctx, func(tx ticketing.Tx) error {
		if err := tx.AddSurvey(ctx, sv); err != nil {
			return err
		}
		return tx.AddSurvey(ctx, sv)
	})
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT || !strings.Contains(err.Error(), tk.ID) {
		t.Errorf("two surveys for one ticket: %v, want conflict", err)
	}
	sv.Rating = "meh"
	err = s.WithTx(ctx, func(tx ticketing.Tx) error { return tx.AddSurvey(ctx, sv) })
	if ticketing.ErrorCode(err) != ticketing.ECONFLICT {
		t.Errorf("bad rating stored: %v", err)
	}
}
