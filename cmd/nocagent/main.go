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
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
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
	logLevel  string
	logFormat string
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
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
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
			goVer := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				goVer = bi.GoVersion
			}
			fmt.Fprintf(stdout, "nocagent %s (%s)\n", version, goVer)
			return nil
		},
	}
}
