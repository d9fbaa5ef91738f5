// Package builtin lists the plugins compiled into nocagent. The host
// serves them in-process; `nocagent plugin serve NAME` serves one out of
// process through the same gRPC adapters as an external plugin.
package builtin

import (
	"slices"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/inspection"
	"github.com/nocagent/nocagent/plugins/jira"
	"github.com/nocagent/nocagent/plugins/snmpbounce"
	"github.com/nocagent/nocagent/plugins/sshcmd"
)

// constructors builds each built-in by name; each call returns a fresh,
// unconfigured instance.
var constructors = map[string]func() plugins.Base{
	inspection.HealthName: func() plugins.Base { return inspection.NewHealth() },
	snmpbounce.Name:       func() plugins.Base { return snmpbounce.New(nil) },
	sshcmd.Name:           func() plugins.Base { return sshcmd.New(sshcmd.Options{}) },
	jira.Name:             func() plugins.Base { return jira.New(jira.Options{}) },
}

// Names lists the built-in plugins, sorted.
func Names() []string {
	out := make([]string, 0, len(constructors))
	for n := range constructors {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// New returns a fresh instance of the named built-in.
func New(name string) (plugins.Base, bool) {
	c, ok := constructors[name]
	if !ok {
		return nil, false
	}
	return c(), true
}

// All returns a fresh instance of every built-in, in Names order.
func All() []plugins.Base {
	var out []plugins.Base
	for _, n := range Names() {
		b, _ := New(n)
		out = append(out, b)
	}
	return out
}
