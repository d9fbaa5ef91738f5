package agent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/nocagent/nocagent/export/influx"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/httpapi"
)

// CheckConfig loads everything New and Run would load from a valid
// inventory — rule files, the priority matrix, the service file, the
// notifiers with their secret files, vendor profiles, the TLS key pair,
// the tokens file and the influx token — without opening the store or
// starting anything, and returns every problem found. check-config and a
// SIGHUP reload use it, so that neither says yes to a file run refuses.
func CheckConfig(cfg *inventory.Config) []error {
	var errs []error
	if _, err := loadRules(cfg); err != nil {
		errs = append(errs, fmt.Errorf("rules: %w", err))
	}
	if err := priorityMatrix(cfg).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("priority matrix: %w", err))
	}
	if pc, err := LoadProcess(cfg.ServiceFile); err != nil {
		errs = append(errs, err)
	} else if err := ticketing.CheckProcess(pc); err != nil {
		errs = append(errs, fmt.Errorf("service file %s: %w", cfg.ServiceFile, err))
	}
	if _, err := newSenders(cfg, slog.New(slog.DiscardHandler)); err != nil {
		errs = append(errs, err)
	}
	if _, err := loadProfiles(cfg); err != nil {
		errs = append(errs, err)
	}
	if cfg.Agent.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.Agent.TLSCert, cfg.Agent.TLSKey); err != nil {
			errs = append(errs, fmt.Errorf("agent.tls_cert/tls_key: %w", err))
		}
	}
	if p := cfg.Agent.TokensFile; p != "" {
		// A missing file is created on first start; one that exists must load.
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			if _, err := httpapi.LoadTokensFile(p); err != nil {
				errs = append(errs, fmt.Errorf("agent.tokens_file: %w", err))
			}
		}
	}
	if _, err := httpapi.LoadUsers(UsersFile(cfg)); err != nil {
		errs = append(errs, err)
	}
	if c := cfg.Influx; c != nil {
		if _, err := influx.TokenFrom(c.TokenFile, c.TokenEnv); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
