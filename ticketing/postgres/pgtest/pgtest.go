// Package pgtest runs a throwaway PostgreSQL 15 server for tests: one per
// test package, started from TestMain, with a fresh database per test.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // skips (fails under CI) without PostgreSQL
//		...
//	}
//
// The server listens on 127.0.0.1 on a free port, runs as user postgres when
// the tests run as root (initdb refuses root), trusts local connections,
// and trades durability for speed (fsync off): it is deleted afterwards.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir holds initdb, pg_ctl and pg_isready: $NOCAGENT_PG_BINDIR, or
// Debian's PostgreSQL 15.
var BinDir = func() string {
	if d := os.Getenv("NOCAGENT_PG_BINDIR"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}()

// Server is a running PostgreSQL server.
type Server struct {
	dir  string // holds data/, sock/ and the log
	port int
	user string // OS user running the server; "" for the current one
	n    atomic.Int64
}

var (
	mu       sync.Mutex
	shared   *Server
	startErr error
	notFound bool // PostgreSQL is not installed: skip unless CI
)

// Main starts the package's server, runs the tests and stops the server. It
// returns the exit code for os.Exit. If PostgreSQL is missing or does not
// start, the tests still run and NewDatabase reports why.
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	s, err := Start(ctx)
	cancel()
	mu.Lock()
	shared, startErr = s, err
	mu.Unlock()
	code := m.Run()
	if s != nil {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// NewDatabase creates an empty database on the package's server and returns
// its DSN (key=value form). Without a server it skips the test, or fails it
// when CI is set.
func NewDatabase(t testing.TB) string {
	t.Helper()
	mu.Lock()
	s, err := shared, startErr
	mu.Unlock()
	if s == nil {
		msg := "PostgreSQL test server not started (call pgtest.Main from TestMain)"
		if err != nil {
			msg = "PostgreSQL test server: " + err.Error()
		}
		if notFound && os.Getenv("CI") == "" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	dsn, err := s.CreateDatabase(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Start initialises a cluster in a new temporary directory and starts it on
// a free loopback port.
func Start(ctx context.Context) (*Server, error) {
	for _, p := range []string{"initdb", "pg_ctl", "pg_isready"} {
		if _, err := os.Stat(filepath.Join(BinDir, p)); err != nil {
			notFound = true
			return nil, fmt.Errorf("%s not installed (apt-get install postgresql-15): %w", filepath.Join(BinDir, p), err)
		}
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir}
	if os.Geteuid() == 0 {
		s.user = "postgres"
	}
	if err := s.prepare(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// Another process may take the port between the probe and the start:
	// try a few.
	for range 3 {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.start(ctx); err == nil {
			return s, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, err
}

func (s *Server) prepare(ctx context.Context) error {
	for _, d := range []string{"data", "sock"} {
		if err := os.Mkdir(filepath.Join(s.dir, d), 0o700); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	if s.user != "" {
		u, err := user.Lookup(s.user)
		if err != nil {
			return fmt.Errorf("pgtest: user %s: %w", s.user, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{s.dir, filepath.Join(s.dir, "data"), filepath.Join(s.dir, "sock")} {
			if err := os.Chown(p, uid, gid); err != nil {
				return fmt.Errorf("pgtest: chown %s: %w", p, err)
			}
		}
	}
	out, err := s.run(ctx, "initdb", "-D", filepath.Join(s.dir, "data"), "--username=postgres", "--auth=trust",
		"-E", "UTF8", "--no-locale", "--no-sync")
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=200 -c deadlock_timeout=100ms", s.port, filepath.Join(s.dir, "sock"))
	logFile := filepath.Join(s.dir, "postgres.log")
	out, err := s.run(ctx, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-l", logFile, "-o", opts, "-w", "-t", "30", "start")
	if err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("pgtest: pg_ctl start on port %d: %w\n%s\n%s", s.port, err, out, tail(string(log), 2000))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := s.run(ctx, "pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port)); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return fmt.Errorf("pgtest: server on port %d not ready after 30s", s.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server (fast shutdown) and deletes its directory.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.run(ctx, "pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop")
	if err != nil {
		err = fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// DSN returns the DSN of database db on s.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", s.port, db)
}

// CreateDatabase creates a database named name (a generated name when
// empty) and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if name == "" {
		name = fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	}
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect to port %d: %w", s.port, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// run runs a PostgreSQL program, as s.user when set.
func (s *Server) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	path := filepath.Join(BinDir, prog)
	var cmd *exec.Cmd
	if s.user != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", s.user, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// The server pg_ctl starts writes to the -l log, not to our pipe, so
	// CombinedOutput returns when pg_ctl does. The directory is one the
	// server's user may enter.
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
