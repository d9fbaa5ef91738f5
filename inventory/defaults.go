package inventory

import (
	"path/filepath"
	"time"
)

// Defaults for Agent settings left out of the file.
const (
	DefaultListen       = "127.0.0.1:9310"
	DefaultPollInterval = 60 * time.Second
	DefaultPollTimeout  = 2 * time.Second
	DefaultRetries      = 1
	DefaultWorkers      = 16
	DefaultDataDir      = "./data"
	DefaultTier         = TierBronze
)

// ApplyDefaults fills in defaults, normalises device addresses to host:port
// and protocol names to their canonical spelling, and gives devices without a
// customer their site's customer. Call it after Validate on a Config built in
// code; Load and Parse have already done it. A zero Retries becomes
// DefaultRetries here, whereas an explicit "retries: 0" in a file is kept.
func (c *Config) ApplyDefaults() {
	c.applyDefaults(func(string) bool { return false })
}

func (c *Config) applyDefaults(explicit func(path string) bool) {
	a := &c.Agent
	if a.Listen == "" {
		a.Listen = DefaultListen
	}
	a.PollInterval = orDefault(a.PollInterval, DefaultPollInterval)
	a.PollTimeout = orDefault(a.PollTimeout, DefaultPollTimeout)
	if a.Retries == 0 && !explicit("agent.retries") {
		a.Retries = DefaultRetries
	}
	if a.Workers == 0 {
		a.Workers = DefaultWorkers
	}
	if a.DataDir == "" {
		a.DataDir = DefaultDataDir
	}

	for i := range c.Credentials {
		cr := &c.Credentials[i]
		cr.SecurityLevel = canonicalOr(cr.SecurityLevel, securityLevels)
		cr.AuthProtocol = canonicalOr(cr.AuthProtocol, authProtocols)
		cr.PrivProtocol = canonicalOr(cr.PrivProtocol, privProtocols)
	}
	for i := range c.Customers {
		if c.Customers[i].Tier == "" {
			c.Customers[i].Tier = DefaultTier
		}
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		if addr, err := NormalizeAddress(d.Address); err == nil {
			d.Address = addr
		}
		if d.Customer == "" {
			if s, ok := c.Site(d.Site); ok {
				d.Customer = s.Customer
			}
		}
	}
}

// ResolvePath interprets p, a path written in the config file, relative to
// the directory of the file (c.Path). Absolute paths, and every path of a
// Config without a Path, are returned unchanged. Load and Parse have already
// resolved Agent.DataDir and Rules to absolute paths, which this leaves as
// they are.
func (c *Config) ResolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

// PollInterval is how often d is polled: its own override or the agent's.
func (c *Config) PollInterval(d Device) time.Duration {
	if d.PollInterval > 0 {
		return d.PollInterval
	}
	return orDefault(c.Agent.PollInterval, DefaultPollInterval)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func canonicalOr(s string, allowed []string) string {
	if c := canonical(s, allowed); c != "" {
		return c
	}
	return s
}
