package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/storetest"
)

// newDB is a fresh database file; every open is another Store (another
// process, as far as SQLite knows) on it.
func newDB(t *testing.T) storetest.Opener {
	path := filepath.Join(t.TempDir(), "tickets.db")
	return func(t *testing.T) ticketing.Store {
		t.Helper()
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, newDB) }

func TestConcurrentAgents(t *testing.T) { storetest.RunConcurrent(t, newDB) }
