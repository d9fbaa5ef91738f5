package agent

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/nocagent/nocagent/inventory"
)

// Reload puts cfg in force without a restart, as SIGHUP asks: devices,
// customers, sites and credentials, rule files and the priority matrix,
// vendor profiles and the service file. Polls go on; alert states of
// rules that keep their name carry over, and every device's open tickets
// are checked against the new rules at its next answered poll. A
// configuration that check-config would refuse changes nothing and is
// reported (nocagent_config_last_reload_successful 0). Settings that need
// a new process (listen address, TLS, data directory, store, notifiers,
// influx, traps, tokens, plugins, workers) keep their running values and
// are named in the returned list.
func (a *Agent) Reload(cfg *inventory.Config) (needRestart []string, err error) {
	defer func() { a.metrics.reloaded(err == nil, a.now()) }()
	if errs := CheckConfig(cfg); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rs := a.opts.Rules
	if rs == nil {
		if rs, err = loadRules(cfg); err != nil {
			return nil, err
		}
	}
	profiles, err := loadProfiles(cfg)
	if err != nil {
		return nil, err
	}
	process, err := LoadProcess(cfg.ServiceFile)
	if err != nil {
		return nil, err
	}
	targets := a.targetsOf(cfg)
	old := a.config()
	// Nothing can fail past this point but the service process, which
	// CheckConfig compiled already.
	if err := a.tickets.SetProcess(process); err != nil {
		return nil, fmt.Errorf("service file %s: %w", cfg.ServiceFile, err)
	}
	needRestart = restartOnly(old, cfg)
	a.cfg.Store(cfg)
	a.engine.SetRules(rs, priorityMatrix(cfg))
	a.sched.SetProfiles(profiles)
	if err := a.sched.Update(targets); err != nil {
		return needRestart, err // validated by inventory: not expected
	}
	a.mu.Lock()
	for name := range a.latest {
		if _, ok := cfg.Device(name); !ok {
			delete(a.latest, name)
			delete(a.good, name)
			delete(a.nbrSig, name)
		}
	}
	clear(a.reconciled)
	a.reconcileWhy = "no longer held after the configuration was reloaded"
	a.graph = a.buildTopology()
	graph := a.graph
	a.mu.Unlock()
	a.corr.SetGraph(graph)
	for _, d := range old.Devices {
		if _, ok := cfg.Device(d.Name); !ok {
			a.engine.Forget(d.Name)
		}
	}
	a.log.Info("configuration reloaded", "devices", len(cfg.Devices), "rules", len(rs.Rules()), "needs_restart", needRestart)
	return needRestart, nil
}

// ReloadFile loads the configuration at path, lets adjust apply what the
// command line overrides, and reloads it (see Reload). A file that does
// not load is refused like any other bad configuration.
func (a *Agent) ReloadFile(path string, adjust func(*inventory.Config)) ([]string, error) {
	cfg, err := inventory.Load(path)
	if err != nil {
		a.metrics.reloaded(false, a.now())
		return nil, err
	}
	if adjust != nil {
		adjust(cfg)
	}
	return a.Reload(cfg)
}

// restartOnly names the settings that differ between old and cfg but are
// only read at start.
func restartOnly(old, cfg *inventory.Config) []string {
	var out []string
	for _, c := range []struct {
		name     string
		old, new any
	}{
		{"agent.listen", old.Agent.Listen, cfg.Agent.Listen},
		{"agent.tls_cert/tls_key", [2]string{old.Agent.TLSCert, old.Agent.TLSKey}, [2]string{cfg.Agent.TLSCert, cfg.Agent.TLSKey}},
		{"agent.data_dir", old.Agent.DataDir, cfg.Agent.DataDir},
		{"agent.tokens_file", old.Agent.TokensFile, cfg.Agent.TokensFile},
		{"agent.trap_listen", old.Agent.TrapListen, cfg.Agent.TrapListen},
		{"agent.workers", old.Agent.Workers, cfg.Agent.Workers},
		{"agent.poll_timeout/retries", [2]any{old.Agent.PollTimeout, old.Agent.Retries}, [2]any{cfg.Agent.PollTimeout, cfg.Agent.Retries}},
		{"store", old.Store, cfg.Store},
		{"notifiers", old.Notifiers, cfg.Notifiers},
		{"influx", old.Influx, cfg.Influx},
		{"plugins", old.Plugins, cfg.Plugins},
	} {
		if !reflect.DeepEqual(c.old, c.new) {
			out = append(out, c.name)
		}
	}
	return slices.Clip(out)
}
