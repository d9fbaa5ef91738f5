package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nocagent/nocagent/export/influx"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/rules"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/chat"
	"github.com/nocagent/nocagent/ticketing/email"
	"github.com/nocagent/nocagent/ticketing/httpapi"
	"github.com/nocagent/nocagent/ticketing/notice"
	"github.com/nocagent/nocagent/ticketing/postgres"
	"github.com/nocagent/nocagent/ticketing/sqlite"
	"github.com/nocagent/nocagent/ticketing/webhook"
)

// newSenders builds a delivery channel per notifier, keyed by its name
// (stored on queued outbox rows: keep names stable).
func newSenders(cfg *inventory.Config, log *slog.Logger) (map[string]ticketing.Sender, error) {
	if err := notice.CheckBaseURL(cfg.Agent.PublicURL); cfg.Agent.PublicURL != "" && err != nil {
		return nil, fmt.Errorf("agent.public_url: %w", err)
	}
	renderer := notice.New(notice.Options{BaseURL: cfg.Agent.PublicURL})
	langs := map[string]string{}
	for _, c := range cfg.Customers {
		if c.Language != "" {
			langs["customer:"+c.ID] = c.Language
		}
	}
	out := map[string]ticketing.Sender{}
	var errs []error
	for _, n := range cfg.Notifiers {
		var (
			s   ticketing.Sender
			err error
		)
		switch n.Kind {
		case inventory.NotifierITSM:
			continue // the agent adds a sinkSender: it needs the plugin host
		case inventory.NotifierWebhook:
			url := n.URL
			if url == "" {
				var b []byte
				if b, err = os.ReadFile(n.URLFile); err == nil {
					url = strings.TrimSpace(string(b))
				}
			}
			var secret []byte
			if err == nil && n.SecretFile != "" {
				secret, err = webhook.ReadSecret(n.SecretFile)
			}
			if err == nil {
				s, err = webhook.New(url, webhook.Options{Secret: secret})
			}
		case inventory.NotifierEmail:
			s, err = email.New(email.Config{
				Addr: n.SMTP, From: n.From, TLS: n.TLS, Username: n.Username, PasswordFile: n.PasswordFile,
				PasswordEnv: n.PasswordEnv, AllowInsecureAuth: n.AllowInsecureAuth, Audiences: n.Audiences,
				AddressBook: n.AddressBook, Languages: langs, Language: n.Language,
			}, email.Options{Logger: log, Renderer: renderer})
		default: // chat robots
			s, err = chat.New(chat.Config{Kind: n.Kind, URL: n.URL, URLFile: n.URLFile, SecretFile: n.SecretFile,
				Language: n.Language, Audience: n.Audience}, chat.Options{Renderer: renderer})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notifier %s: %w", n.Name, err))
			continue
		}
		out[n.Name] = s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...) // every notifier's problem at once
	}
	return out, nil
}

// TicketStore is SQLite or PostgreSQL.
type TicketStore interface {
	ticketing.Store
	ticketing.RecordStore
	io.Closer
}

// OpenStore opens the ticket store cfg configures, as the agent does:
// PostgreSQL when store is a postgres:// URL, else SQLite in the data
// directory, which must already hold one (the CLI reads what an agent
// wrote; it does not start an empty store).
func OpenStore(ctx context.Context, cfg *inventory.Config) (TicketStore, error) {
	dataDir := cfg.ResolvePath(cfg.Agent.DataDir)
	if !isPostgres(cfg.Store) {
		if _, err := os.Stat(filepath.Join(dataDir, "nocagent.db")); err != nil {
			return nil, fmt.Errorf("ticket store: %w (has the agent run with data_dir %s?)", err, dataDir)
		}
	}
	return openStore(ctx, cfg.Store, dataDir)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openStore opens PostgreSQL when dsn names it, else SQLite in dataDir.
// The DSN is never logged: it may hold a password.
func openStore(ctx context.Context, dsn, dataDir string) (TicketStore, error) {
	if isPostgres(dsn) {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("ticket store (postgres): %w", err)
		}
		return st, nil
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, "nocagent.db"))
}

// tickInterval is how often SLA clocks, escalations, reminders and
// verification are swept.
const tickInterval = 10 * time.Second

// LoadProcess reads the service process settings (service_file); no file
// means the defaults of the service process.
func LoadProcess(path string) (ticketing.ProcessConfig, error) {
	var pc ticketing.ProcessConfig
	if path == "" {
		return pc, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return pc, fmt.Errorf("service file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&pc); err != nil && !errors.Is(err, io.EOF) {
		return pc, fmt.Errorf("service file %s: %w", path, err)
	}
	return pc, nil
}

// UsersFile is where `nocagent users` keeps the per-person accounts of the
// agent that cfg configures.
func UsersFile(cfg *inventory.Config) string {
	return filepath.Join(cfg.ResolvePath(cfg.Agent.DataDir), "users.json")
}

// loadTokens reads the API tokens, generating a token per role on first
// start when the file does not exist yet (the demo's one-file bootstrap),
// and the per-person accounts of UsersFile.
func loadTokens(cfg *inventory.Config, dataDir string, now func() time.Time) (*httpapi.Tokens, string, error) {
	path := cfg.Agent.TokensFile
	if path == "" {
		path = filepath.Join(dataDir, "tokens.json")
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		ids := make([]string, 0, len(cfg.Customers))
		for _, c := range cfg.Customers {
			ids = append(ids, c.ID)
		}
		m, err := httpapi.GenerateTokens(ids)
		if err != nil {
			return nil, "", err
		}
		if err := httpapi.WriteTokensFile(path, m); err != nil {
			return nil, "", err
		}
	}
	t, err := httpapi.LoadTokensFile(path)
	if err != nil {
		return nil, "", err
	}
	if t, err = t.WithUsers(filepath.Join(dataDir, "users.json"), now); err != nil {
		return nil, "", err
	}
	return t, path, nil
}

// secretFile reads a random key kept in the data directory, creating it
// on first start: confirmation links stay valid across restarts.
func secretFile(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}

// deviceCount is how many inventory devices a customer (and contract) has,
// for the availability KPI.
func (a *Agent) deviceCount(customer, contract string) int {
	n := 0
	for _, d := range a.config().Devices {
		cust, _ := a.config().Customer(d.Customer)
		if (customer == "" || d.Customer == customer) && (contract == "" || cust.Contract == contract) {
			n++
		}
	}
	return n
}

// TokensFile is where the API tokens of this agent are.
func (a *Agent) TokensFile() string { return a.tokensFile }

func newInflux(cfg *inventory.Config, dataDir string, log *slog.Logger, now func() time.Time) (*influx.Exporter, error) {
	c := cfg.Influx
	tok, err := influx.TokenFrom(c.TokenFile, c.TokenEnv)
	if err != nil {
		return nil, fmt.Errorf("influx token: %w", err)
	}
	ex, err := influx.New(influx.Config{
		URL: c.URL, Org: c.Org, Bucket: c.Bucket, Token: tok,
		BatchSize: c.BatchSize, FlushInterval: c.FlushInterval, MemoryBuffer: c.MemoryBuffer,
		SpoolDir: filepath.Join(dataDir, "influx-spool"), SpoolMaxBytes: c.SpoolMaxBytes,
	}, influx.Options{Logger: log, Now: now})
	if err != nil {
		return nil, fmt.Errorf("influx export: %w", err)
	}
	return ex, nil
}

// tickLoop sweeps the service process clocks until ctx ends.
func (a *Agent) tickLoop(ctx context.Context) {
	every(ctx, tickInterval, false, func() {
		rep, err := a.tickets.Tick(ctx, a.now())
		if err != nil && ctx.Err() == nil {
			a.log.Error("service process sweep", "err", err)
		}
		if rep != (ticketing.TickReport{}) {
			a.dispatcher.Wake()
		}
	})
}

// every calls fn each period until ctx ends, at once first when now is set.
func every(ctx context.Context, period time.Duration, now bool, fn func()) {
	if now {
		fn()
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// deviceContext is what a ticket carries about a device: inventory,
// topology, and identity from its last answering poll (an unreachable
// device's own snapshot is empty).
func (a *Agent) deviceContext(name string) (ticketing.DeviceContext, bool) {
	dev, ok := a.config().Device(name)
	if !ok {
		return ticketing.DeviceContext{}, false
	}
	cust, _ := a.config().Customer(dev.Customer)
	site, _ := a.config().Site(dev.Site)
	a.mu.RLock()
	defer a.mu.RUnlock()
	dc := ticketing.DeviceContext{
		Name: dev.Name, Address: dev.Address, Role: dev.Role, Site: dev.Site, SiteName: site.Name,
		Customer: dev.Customer, CustomerName: cust.Name, Contract: cust.Contract,
		Upstream: nonNil(a.graph.Upstream(dev.Name)), Downstream: nonNil(a.graph.Downstream(dev.Name)), Neighbors: []string{},
	}
	if s := a.good[dev.Name]; s != nil {
		dc.Serial, dc.Model, dc.Vendor, dc.OS = s.Serial, s.Model, s.Vendor, s.OS
		for _, n := range s.Neighbors {
			dc.Neighbors = append(dc.Neighbors, fmt.Sprintf("%s -> %s %s (%s)", n.LocalPort, n.RemoteName, n.RemotePort, n.Protocol))
		}
		sort.Strings(dc.Neighbors)
	}
	return dc, true
}

// priorityMatrix is the default matrix with the config's changes on top.
func priorityMatrix(cfg *inventory.Config) rules.PriorityMatrix {
	m := rules.DefaultPriorityMatrix()
	p := cfg.Priority
	if p == nil {
		return m
	}
	for sev, row := range p.Cells {
		if m.Cells[sev] == nil {
			m.Cells[sev] = map[rules.Impact]string{}
		}
		for imp, prio := range row {
			m.Cells[sev][rules.Impact(imp)] = prio
		}
	}
	for role, imp := range p.Roles {
		m.Roles[role] = rules.Impact(imp)
	}
	if p.UnknownRole != "" {
		m.UnknownRole = rules.Impact(p.UnknownRole)
	}
	if p.CriticalDownstream > 0 {
		m.CriticalDownstream = p.CriticalDownstream
	}
	if p.RaiseTiers != nil {
		m.RaiseTiers = p.RaiseTiers
	}
	return m
}
