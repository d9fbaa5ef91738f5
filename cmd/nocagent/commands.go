package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/agent"
	"github.com/nocagent/nocagent/collector"
	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/inventory"
)

func newCheckConfigCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check-config FILE",
		Short: "Validate a configuration and everything it names, and print every error",
		Long: `check-config loads what 'nocagent run' would load — the inventory, rule
files, priority matrix, service file, notifier secret files, vendor profiles,
TLS key pair, tokens file and influx token — without starting anything, and
prints every problem (file:line where the file has lines). Exit status 1 when
run would refuse the configuration.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			type problem struct {
				File    string `json:"file,omitempty"`
				Line    int    `json:"line,omitempty"`
				Column  int    `json:"column,omitempty"`
				Field   string `json:"field,omitempty"`
				Message string `json:"message"`
			}
			report := struct {
				File      string    `json:"file"`
				OK        bool      `json:"ok"`
				Problems  []problem `json:"problems"`
				Devices   int       `json:"devices"`
				Customers int       `json:"customers"`
				Sites     int       `json:"sites"`
			}{File: args[0], Problems: []problem{}}
			cfg, err := inventory.Load(args[0])
			var ves inventory.ValidationErrors
			switch {
			case errors.As(err, &ves):
				for _, e := range ves {
					report.Problems = append(report.Problems, problem{e.File, e.Line, e.Column, e.Field, e.Message})
				}
			case err != nil:
				report.Problems = append(report.Problems, problem{Message: err.Error()})
			default:
				for _, e := range agent.CheckConfig(cfg) {
					report.Problems = append(report.Problems, problem{Message: e.Error()})
				}
				report.Devices, report.Customers, report.Sites = len(cfg.Devices), len(cfg.Customers), len(cfg.Sites)
			}
			report.OK = len(report.Problems) == 0
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(report); err != nil {
					return err
				}
			} else if report.OK {
				fmt.Fprintf(stdout, "%s: ok (%d devices, %d customers, %d sites, %d credentials)\n",
					args[0], len(cfg.Devices), len(cfg.Customers), len(cfg.Sites), len(cfg.Credentials))
			} else if len(ves) > 0 {
				fmt.Fprintln(stdout, ves)
			} else {
				for _, p := range report.Problems {
					fmt.Fprintln(stdout, p.Message)
				}
			}
			if !report.OK {
				return &exitError{code: 1, err: fmt.Errorf("%s is not valid", args[0])}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newRunCmd(g *globalFlags, stderr io.Writer) *cobra.Command {
	var listen, store string
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the agent: poll devices, serve metrics and the API, open tickets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString("config")
			overrides := func(cfg *inventory.Config) {
				if listen != "" {
					cfg.Agent.Listen = listen
				}
				if store != "" {
					cfg.Store = store
				}
			}
			cfg, err := inventory.Load(path)
			if err == nil {
				overrides(cfg)
			} else {
				fmt.Fprintln(stderr, err)
				return &exitError{code: 2, err: fmt.Errorf("refusing to start: %s is not valid", path)}
			}
			ctx := cmd.Context()
			log := g.logger(stderr)
			a, err := agent.New(ctx, cfg, agent.Options{Logger: log})
			if err != nil {
				return err
			}
			// SIGHUP reloads the configuration; a bad one is refused and
			// the running one stays.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
					}
					restart, err := a.ReloadFile(path, overrides)
					if err != nil {
						log.Error("configuration reload refused; the running configuration stays", "file", path, "err", err)
						continue
					}
					if len(restart) > 0 {
						log.Warn("configuration reloaded; these settings take effect at the next restart", "file", path, "settings", restart)
					}
				}
			}()
			return a.Run(ctx)
		},
	}
	cmd.Flags().StringP("config", "c", "nocagent.yaml", "configuration file")
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP listen address (overrides agent.listen)")
	cmd.Flags().StringVar(&store, "store", "", "ticket store postgres:// URL (overrides store)")
	return cmd
}

func newDemoCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var o agent.DemoOptions
	var verbose bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a simulated network, the agent and a fault scenario: tickets appear within a minute",
		Long: `demo starts ten simulated SNMP devices for two customers, the agent polling
them, tickets in SQLite and a webhook receiver. Within 30 s an access switch
loses its uplink and a firewall's CPU goes to 97 %; the uplink comes back
later. Every ticket event and delivered notice is printed as it happens.
Ctrl-C stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = stdout
			// Stdout is the timeline; logs go to <data>/nocagent.log
			// unless asked for here.
			if verbose || cmd.Flags().Changed("log-level") {
				o.Logger = g.logger(stderr)
			}
			return agent.Demo(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&verbose, "verbose", "v", false, "print the agent's logs on stderr (default: <data>/nocagent.log)")
	f.StringVar(&o.Listen, "listen", "127.0.0.1:9310", "agent HTTP API and /metrics")
	f.StringVar(&o.Control, "control", "127.0.0.1:9311", "simulator control API")
	f.StringVar(&o.DataDir, "data", "", "data directory (default: a temporary one, removed at exit)")
	f.StringVar(&o.Store, "store", "", "ticket store: a postgres:// URL (default: SQLite in the data directory)")
	f.DurationVar(&o.Interval, "interval", 10*time.Second, "poll interval")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: until Ctrl-C)")
	return cmd
}

func newSimulateCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var recordings, listen, control string
	var demoNet bool
	cmd := &cobra.Command{
		Use:   "simulate (--recordings DIR | --demo-network)",
		Short: "Serve SNMP recordings or the demo network, with a fault-injection API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (recordings == "") == !demoNet {
				return &exitError{code: 2, err: errors.New("give exactly one of --recordings DIR or --demo-network")}
			}
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				host = listen
			}
			ctx := cmd.Context()
			sim := snmpsim.New(snmpsim.Options{Logger: g.logger(stderr)})
			defer sim.Close()
			var devs []snmpsim.DeviceInfo
			if demoNet {
				devs, err = sim.AddDemoNetwork(ctx, host)
			} else {
				devs, err = sim.AddRecordingDir(ctx, recordings, host)
			}
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", control)
			if err != nil {
				return fmt.Errorf("control API on %s: %w", control, err)
			}
			srv := agent.NewHTTPServer(sim.Handler())
			go srv.Serve(ln)
			defer srv.Close()
			for _, d := range devs {
				fmt.Fprintf(stdout, "%-32s udp %s:%d community %s\n", d.Name, d.Address, d.Port, d.Community)
			}
			fmt.Fprintf(stdout, "%d devices; control API http://%s/api/v1/devices\n", len(devs), ln.Addr())
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&recordings, "recordings", "", "directory of .snmprec files (community = file base name)")
	f.BoolVar(&demoNet, "demo-network", false, "serve the built-in demo network")
	f.StringVar(&listen, "listen", "127.0.0.1", "address to bind devices on (each device gets its own port)")
	f.StringVar(&control, "control", "127.0.0.1:9311", "control API address")
	return cmd
}

func newPollCmd(g *globalFlags, stdout io.Writer) *cobra.Command {
	var cred inventory.Credential
	var asJSON bool
	var timeout time.Duration
	var retries int
	var keys pollKeyFlags
	cmd := &cobra.Command{
		Use:   "poll HOST[:PORT]",
		Short: "Poll one device once and print what it saw",
		Long: `Poll one device once and print what it saw.

SNMPv3 keys come from --auth-key-file / --priv-key-file (the file's first
line), else from the environment (` + envAuthKey + `, ` + envPrivKey + `), else
from --auth-key / --priv-key, which other users can read in the process
list.`,
		Example: `  nocagent poll 127.0.0.1:161 --community public
  nocagent poll 10.0.0.1 --snmp-version 3 --user noc --auth-protocol SHA --auth-key-file /etc/nocagent/noc.auth --priv-protocol AES --priv-key-file /etc/nocagent/noc.priv --json
  ` + envAuthKey + `=... ` + envPrivKey + `=... nocagent poll 10.0.0.1 --snmp-version 3 --user noc --auth-protocol SHA --priv-protocol AES`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keys.resolve(&cred, cmd.Flags().Changed, os.Getenv); err != nil {
				return err
			}
			target := args[0]
			if _, _, err := net.SplitHostPort(target); err != nil {
				target = net.JoinHostPort(strings.Trim(target, "[]"), "161")
			}
			cred.Name = "command line"
			cred.SecurityLevel = securityLevel(cred)
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout*time.Duration(retries+1)*20)
			defer cancel()
			s := collector.Poll(ctx, target, cred, collector.PollOptions{Session: collector.SessionOptions{Timeout: timeout, Retries: retries}})
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(s); err != nil {
					return err
				}
			} else {
				printSnapshot(stdout, s)
			}
			if !s.Reachable {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cred.Version, "snmp-version", "2c", "SNMP version: 1, 2c or 3")
	f.StringVar(&cred.Community, "community", "public", "community (v1, v2c)")
	f.StringVar(&cred.Username, "user", "", "SNMPv3 user name")
	f.StringVar(&cred.AuthProtocol, "auth-protocol", "", "SNMPv3 auth protocol: MD5, SHA, SHA224, SHA256, SHA384, SHA512")
	f.StringVar(&cred.AuthKey, "auth-key", "", "SNMPv3 auth passphrase (visible in the process list: prefer --auth-key-file or "+envAuthKey+")")
	f.StringVar(&keys.authFile, "auth-key-file", "", "read the SNMPv3 auth passphrase from this file")
	f.StringVar(&cred.PrivProtocol, "priv-protocol", "", "SNMPv3 privacy protocol: DES, AES, AES192, AES256")
	f.StringVar(&cred.PrivKey, "priv-key", "", "SNMPv3 privacy passphrase (visible in the process list: prefer --priv-key-file or "+envPrivKey+")")
	f.StringVar(&keys.privFile, "priv-key-file", "", "read the SNMPv3 privacy passphrase from this file")
	f.StringVar(&cred.ContextName, "context", "", "SNMPv3 context name")
	f.DurationVar(&timeout, "timeout", 2*time.Second, "timeout per request")
	f.IntVar(&retries, "retries", 1, "retries per request")
	f.BoolVar(&asJSON, "json", false, "print the snapshot as JSON")
	return cmd
}

// The environment variables poll reads SNMPv3 keys from.
const (
	envAuthKey = "NOCAGENT_AUTH_KEY"
	envPrivKey = "NOCAGENT_PRIV_KEY"
)

// pollKeyFlags are poll's other sources of SNMPv3 keys than the flags
// that hold them.
type pollKeyFlags struct {
	authFile, privFile string
}

// resolve fills cred's keys: from a key file, else from the environment,
// else the --auth-key/--priv-key flag keeps its value. A key flag and its
// file together are refused. changed reports whether a flag was given.
// Errors name the flag, file or variable, never a key.
func (k pollKeyFlags) resolve(cred *inventory.Credential, changed func(string) bool, getenv func(string) string) error {
	for _, src := range []struct {
		key        *string
		flag, file string
		env        string
	}{
		{&cred.AuthKey, "auth-key", k.authFile, envAuthKey},
		{&cred.PrivKey, "priv-key", k.privFile, envPrivKey},
	} {
		switch {
		case src.file != "" && changed(src.flag):
			return fmt.Errorf("give --%s or --%s-file, not both", src.flag, src.flag)
		case src.file != "":
			key, err := readKeyFile(src.file)
			if err != nil {
				return fmt.Errorf("--%s-file: %w", src.flag, err)
			}
			*src.key = key
		case changed(src.flag):
			// The flag's value stands.
		case getenv(src.env) != "":
			*src.key = getenv(src.env)
		}
	}
	return nil
}

// readKeyFile returns the first line of a key file, without its line
// break. An empty key is an error naming the file.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read key: %w", err)
	}
	key, _, _ := strings.Cut(string(b), "\n")
	key = strings.TrimSuffix(key, "\r")
	if key == "" {
		return "", fmt.Errorf("key file %s: the first line is empty", path)
	}
	return key, nil
}

func securityLevel(c inventory.Credential) string {
	switch {
	case c.Version != inventory.SNMPv3:
		return ""
	case c.PrivProtocol != "":
		return "authPriv"
	case c.AuthProtocol != "":
		return "authNoPriv"
	}
	return "noAuthNoPriv"
}

func printSnapshot(w io.Writer, s *collector.Snapshot) {
	fmt.Fprintf(w, "target     %s  reachable=%v  poll=%s  pdus=%d\n", s.Target, s.Reachable, s.PollDuration.Round(time.Microsecond), s.PDUs)
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error      %s\n", e)
	}
	if !s.Reachable {
		return
	}
	fmt.Fprintf(w, "system     %s  (%s)  up %s\n", s.System.Name, s.System.ObjectID, (time.Duration(s.System.UptimeSeconds) * time.Second).String())
	fmt.Fprintf(w, "identity   vendor=%s os=%s model=%s serial=%s\n", s.Vendor, s.OS, s.Model, s.Serial)
	fmt.Fprintf(w, "descr      %s\n", strings.ReplaceAll(strings.TrimSpace(s.System.Descr), "\r\n", " "))
	for _, m := range s.Modules {
		if m.Status != collector.ModuleOK {
			fmt.Fprintf(w, "module     %-12s %s %s\n", m.Module, m.Status, m.Reason)
		}
	}
	for _, c := range s.CPU {
		fmt.Fprintf(w, "cpu        %-24s %5.1f %%\n", c.Name, c.Percent)
	}
	for _, m := range s.Memory {
		fmt.Fprintf(w, "memory     %-24s %5.1f %%  %d / %d bytes\n", m.Name, m.Percent, m.UsedBytes, m.TotalBytes)
	}
	for _, x := range s.Sensors {
		fmt.Fprintf(w, "sensor     %-12s %-24s %g %s (%s)\n", x.Class, x.Name, x.Value, x.Unit, x.Status)
	}
	fmt.Fprintf(w, "interfaces %d\n", len(s.Interfaces))
	for _, i := range s.Interfaces {
		fmt.Fprintf(w, "  %-6d %-24s %-5s/%-5s %6d Mb/s  in %d  out %d  %s\n", i.Index, i.Name, i.AdminStatus, i.OperStatus, i.SpeedBps/1e6, i.InOctets, i.OutOctets, i.Alias)
	}
	for _, e := range s.Entities {
		if e.Serial != "" {
			fmt.Fprintf(w, "entity     %-6d %-10s %-28s model=%s serial=%s\n", e.Index, e.Class, e.Name, e.Model, e.Serial)
		}
	}
	for _, n := range s.Neighbors {
		fmt.Fprintf(w, "neighbor   %s %s -> %s %s\n", n.Protocol, n.LocalPort, n.RemoteName, n.RemotePort)
	}
}
