package oracle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
)

// Result is one recording served, polled and scored.
type Result struct {
	Name     string              `json:"name"`
	OS       string              `json:"librenms_os"`
	Snapshot *collector.Snapshot `json:"snapshot"`
	Checks   []Check             `json:"checks"` // nil without an oracle
}

// Check returns the verdict of one field.
func (r *Result) Check(field string) Check {
	for _, c := range r.Checks {
		if c.Field == field {
			return c
		}
	}
	return Check{Field: field}
}

// Oracle returns the LibreNMS JSON beside a recording in a LibreNMS test
// tree (DIR/snmpsim/NAME.snmprec → DIR/data/NAME.json), or "" when there
// is none.
func Oracle(recording string) string {
	name := strings.TrimSuffix(filepath.Base(recording), ".snmprec")
	p := filepath.Join(filepath.Dir(filepath.Dir(recording)), "data", name+".json")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Score serves recording with sim, polls it once with profiles (nil: the
// built-ins) and, when oracleJSON is not empty, scores the poll.
func Score(ctx context.Context, sim *snmpsim.Simulator, recording, oracleJSON string, profiles *collector.ProfileSet) (*Result, error) {
	info, err := sim.AddRecording(ctx, recording, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	target := fmt.Sprintf("%s:%d", info.Address, info.Port)
	return Poll(ctx, info.Name, target, info.Community, oracleJSON, profiles)
}

// Poll polls target (SNMP v2c with community) once and scores it against
// oracleJSON when that is set.
func Poll(ctx context.Context, name, target, community, oracleJSON string, profiles *collector.ProfileSet) (*Result, error) {
	return pollWith(ctx, name, target, community, oracleJSON, profiles, 30*time.Second, 3*time.Second)
}

// pollWith is Poll with the poll's budget and each request's timeout.
func pollWith(ctx context.Context, name, target, community, oracleJSON string, profiles *collector.ProfileSet, budget, timeout time.Duration) (*Result, error) {
	pctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	cred := inventory.Credential{Name: "oracle", Version: "2c", Community: community}
	snap := collector.Poll(pctx, target, cred, collector.PollOptions{
		Session:  collector.SessionOptions{Timeout: timeout, Retries: 1},
		Profiles: profiles,
	})
	if !snap.Reachable {
		return nil, fmt.Errorf("%s: poll %s: unreachable: %v", name, target, snap.Errors)
	}
	r := &Result{Name: name, Snapshot: snap}
	if oracleJSON == "" {
		return r, nil
	}
	d, err := Load(oracleJSON)
	if err != nil {
		return nil, err
	}
	r.OS = d.Device().OS
	r.Checks = Compare(snap, d)
	return r, nil
}
