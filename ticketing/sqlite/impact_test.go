package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// migrationsUpTo is the embedded migrations up to version n: the schema an
// older nocagent left behind.
func migrationsUpTo(t *testing.T, n int) fs.FS {
	t.Helper()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, m := range ms[:n] {
		fsys[fmt.Sprintf("migrations/%04d_%s.sql", m.version, m.name)] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	return fsys
}

func TestUpgradeFromServiceProcessSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path+"?_txlock=immediate&_foreign_keys=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, migrationsUpTo(t, 2)); err != nil {
		t.Fatalf("build version-2 database: %v", err)
	}
	// A ticket written by the older binary.
	if _, err := db.ExecContext(ctx, `INSERT INTO tickets (seq, id, dedup_key, state, priority, category, source,
		title, device_name, customer, device, opened_at, updated_at)
		VALUES (1, 'NOC-000001', 'core-01/availability', 'new', 'P1', 'availability', 'monitoring',
		'core-01 unreachable', 'core-01', 'acme', '{"name":"core-01","customer":"acme"}', ?, ?)`,
		formatTime(t0), formatTime(t0)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open version-2 database: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v < 3 {
		t.Fatalf("schema version %d (%v), want at least 3", v, err)
	}
	tk, err := s.TicketByID(ctx, "NOC-000001")
	if err != nil {
		t.Fatal(err)
	}
	if tk.ImpactedDevices == nil || len(tk.ImpactedDevices) != 0 {
		t.Errorf("old ticket impacted devices = %#v, want an empty list", tk.ImpactedDevices)
	}
	// The upgraded ticket takes impacted devices like a new one.
	err = s.WithTx(ctx, func(tx ticketing.Tx) error {
		return tx.SaveImpacted(ctx, tk.ID, []ticketing.ImpactedDevice{{Name: "acc-1", Customer: "globex", AddedAt: t0}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if tk, err = s.TicketByID(ctx, tk.ID); err != nil || len(tk.ImpactedDevices) != 1 || tk.ImpactedDevices[0].Name != "acc-1" {
		t.Errorf("after save: %+v (%v)", tk.ImpactedDevices, err)
	}
}

func TestSaveImpactedUpserts(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	tk := seedTicket(t, s, "r1/availability")
	save := func(ds ...ticketing.ImpactedDevice) {
		t.Helper()
		if err := s.WithTx(ctx, func(tx ticketing.Tx) error { return tx.SaveImpacted(ctx, tk.ID, ds) }); err != nil {
			t.Fatal(err)
		}
	}
	t1 := t0.Add(time.Minute)
	save(ticketing.ImpactedDevice{Name: "b", Serial: "S2", Customer: "globex", AddedAt: t0},
		ticketing.ImpactedDevice{Name: "a", Serial: "S1", Customer: "acme", AddedAt: t0})
	save(ticketing.ImpactedDevice{Name: "b", Serial: "S2", Customer: "globex", AddedAt: t0, Recovered: true, RecoveredAt: &t1})

	got, err := s.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []ticketing.ImpactedDevice{
		{Name: "a", Serial: "S1", Customer: "acme", AddedAt: t0},
		{Name: "b", Serial: "S2", Customer: "globex", AddedAt: t0, Recovered: true, RecoveredAt: &t1},
	}
	if len(got.ImpactedDevices) != len(want) {
		t.Fatalf("devices = %+v, want %+v", got.ImpactedDevices, want)
	}
	for i, w := range want {
		g := got.ImpactedDevices[i]
		if g.Name != w.Name || g.Serial != w.Serial || g.Customer != w.Customer || !g.AddedAt.Equal(w.AddedAt) ||
			g.Recovered != w.Recovered || (w.RecoveredAt == nil) != (g.RecoveredAt == nil) ||
			(w.RecoveredAt != nil && !g.RecoveredAt.Equal(*w.RecoveredAt)) {
			t.Errorf("device %d = %+v, want %+v", i, g, w)
		}
	}

	// Affecting finds the ticket through an impacted device, Customer does not.
	for _, tc := range []struct {
		f    ticketing.Filter
		want int
	}{
		{ticketing.Filter{Affecting: "globex"}, 1},
		{ticketing.Filter{Affecting: "initech"}, 0},
		{ticketing.Filter{Customer: "globex"}, 0},
	} {
		ts, err := s.ListTickets(ctx, tc.f)
		if err != nil || len(ts) != tc.want {
			t.Errorf("ListTickets(%+v) = %d tickets (%v), want %d", tc.f, len(ts), err, tc.want)
		}
		if len(ts) == 1 && len(ts[0].ImpactedDevices) != 2 {
			t.Errorf("listed ticket carries %d impacted devices, want 2", len(ts[0].ImpactedDevices))
		}
	}

	// A device must belong to a stored ticket and have a name.
	for _, d := range []struct {
		id  string
		dev ticketing.ImpactedDevice
	}{
		{"NOC-999999", ticketing.ImpactedDevice{Name: "x", AddedAt: t0}},
		{tk.ID, ticketing.ImpactedDevice{Name: "", AddedAt: t0}},
	} {
		err := s.WithTx(ctx, func(tx ticketing.Tx) error { return tx.SaveImpacted(ctx, d.id, []ticketing.ImpactedDevice{d.dev}) })
		if ticketing.ErrorCode(err) != ticketing.ECONFLICT {
			t.Errorf("save %+v on %s: %v, want ECONFLICT", d.dev, d.id, err)
		}
	}
}
