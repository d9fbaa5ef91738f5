// Command nocagent polls customer networks over SNMP, exports metrics, turns
// faults into tickets and drives them through the service process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// gcPercent is the GC target unless GOGC says otherwise. The agent's
// live heap is small and nearly all it allocates is short-lived poll
// buffers, so the default of 100 spends a fifth of the poll loop's CPU
// collecting; 400 costs a few MiB of heap per hundred devices.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a specific exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "nocagent:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "nocagent:", err)
	return 1
}

type globalFlags struct {
	logLevel   string
	logFormat  string
	cpuProfile string
	profile    *os.File
}

// startProfile starts a CPU profile when --cpuprofile asks for one; the
// command's end (stopProfile) writes it out.
func (g *globalFlags) startProfile() error {
	if g.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(g.cpuProfile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	g.profile = f
	return nil
}

func (g *globalFlags) stopProfile() {
	if g.profile != nil {
		pprof.StopCPUProfile()
		g.profile.Close()
		g.profile = nil
	}
}

func (g *globalFlags) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	o := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(g.logFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "nocagent",
		Short: "Network monitoring and auto-ticketing agent for after-sales service",
		Long: `nocagent polls customer routers, switches and firewalls over SNMP, exports
metrics for Prometheus and Grafana, turns threshold breaches into prioritised
tickets that carry the device's serial, model, site, contract and topology,
and drives those tickets through the service process.

Start with 'nocagent demo': a simulated network, the agent, tickets appearing.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the command to this file (for `go tool pprof`)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return g.startProfile() }
	root.PersistentPostRun = func(*cobra.Command, []string) { g.stopProfile() }
	root.AddCommand(
		newRunCmd(g, stderr),
		newDemoCmd(g, stdout, stderr),
		newSimulateCmd(g, stdout, stderr),
		newPollCmd(g, stdout),
		newProfilesCmd(stdout),
		newCheckConfigCmd(stdout),
		newDiscoverCmd(stdout, stderr),
		newPluginsCmd(stdout),
		newRulesCmd(stdout),
		newTicketsCmd(stdout),
		newMaintenanceCmd(stdout),
		newUsersCmd(stdout),
		newOutboxCmd(stdout),
		newInspectCmd(stdout),
		newReportCmd(stdout),
		newPluginServeCmd(),
		newVersionCmd(stdout),
	)
	return root
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(stdout, versionString())
			return nil
		},
	}
}

// versionString is what `nocagent version` and `nocagent --version` print.
func versionString() string {
	goVer := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVer = bi.GoVersion
	}
	return fmt.Sprintf("nocagent %s (%s)", version, goVer)
}
