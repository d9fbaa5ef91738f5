package agent

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/ticketing/postgres"
	"github.com/nocagent/nocagent/ticketing/postgres/pgtest"
)

// TestMain starts one PostgreSQL server for the tests that need it.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgURL turns pgtest's key=value DSN into the postgres:// URL the
// configuration takes.
func pgURL(t *testing.T, dsn string) string {
	t.Helper()
	kv := map[string]string{}
	for _, f := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = strings.Trim(v, "'")
	}
	u := url.URL{Scheme: "postgres", User: url.User(kv["user"]), Host: kv["host"] + ":" + kv["port"], Path: "/" + kv["dbname"]}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// TestDemoOnPostgres runs `nocagent demo --store postgres://...`.
func TestDemoOnPostgres(t *testing.T) {
	dsn := pgURL(t, pgtest.NewDatabase(t))
	var out syncBuffer
	err := Demo(context.Background(), DemoOptions{
		Listen: "127.0.0.1:0", Control: "127.0.0.1:0", Interval: testInterval, Store: dsn,
		LinkDownAt: time.Second, CPUAt: 1500 * time.Millisecond, StuckAt: 2 * time.Second, ClearLinkAt: 4 * time.Second,
		Duration: 7 * time.Second, MaxFor: time.Second, Out: &out,
	})
	if err != nil {
		t.Fatalf("Demo on PostgreSQL: %v\n%s", err, out.String())
	}
	for _, want := range []string{"opened    P2 link         acme-acc-1", "resolved  P2 link         acme-acc-1", `webhook received "opened"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

// OpenStore, which the report and inspect commands use, opens the store
// the agent uses: PostgreSQL when the config names one, and refuses to make
// an empty SQLite store where an agent never ran.
func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	cfg := &inventory.Config{Agent: inventory.Agent{DataDir: t.TempDir()}}
	if _, err := OpenStore(ctx, cfg); err == nil || !strings.Contains(err.Error(), "has the agent run") {
		t.Errorf("SQLite where no agent ran: %v", err)
	}
	cfg.Store = pgURL(t, pgtest.NewDatabase(t))
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		t.Fatalf("PostgreSQL store: %v", err)
	}
	defer st.Close()
	if _, ok := st.(*postgres.Store); !ok {
		t.Errorf("store is %T, want the PostgreSQL store the config names", st)
	}
}
