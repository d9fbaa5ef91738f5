package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/plugins/builtin"
)

// newPluginsCmd is `nocagent plugins list`: loads the built-in plugins and
// the external ones in --dir, and prints each with kind, version and
// health. Rejected binaries are listed with the reason.
func newPluginsCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "Inspect the plugins nocagent loads"}
	var (
		dir     string
		asJSON  bool
		timeout time.Duration
	)
	list := &cobra.Command{
		Use:   "list [--dir DIR] [--json]",
		Short: "List built-in and external plugins with kind, version and health",
		Args:  cobra.NoArgs,
		// A rejected plugin is not a usage mistake.
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			h, loadErr := plugins.NewHost(ctx, plugins.HostConfig{Dir: dir, Builtins: builtin.All(), StartTimeout: timeout})
			defer h.Close()
			st := h.List()
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return fmt.Errorf("plugins list: %w", err)
				}
			} else {
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tHEALTH\tSOURCE\tERROR")
				for _, s := range st {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, pluginsOrDash(s.Kind), pluginsOrDash(s.Version), s.Health, s.Source, s.Error)
				}
				if err := tw.Flush(); err != nil {
					return fmt.Errorf("plugins list: %w", err)
				}
			}
			if loadErr != nil {
				return &exitError{code: 2, err: fmt.Errorf("plugins list: some plugins were rejected (listed above)")}
			}
			return nil
		},
	}
	list.Flags().StringVar(&dir, "dir", "", "directory of external plugin executables")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	list.Flags().DurationVar(&timeout, "start-timeout", 10*time.Second, "how long a plugin may take to start")
	cmd.AddCommand(list)
	return cmd
}

func pluginsOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newPluginServeCmd is `nocagent plugin serve NAME`: serves one built-in
// plugin over go-plugin, so the agent (or another host) can run it out of
// process. Only a plugin host should start it: go-plugin refuses to run
// without the host's handshake cookie in the environment.
func newPluginServeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plugin", Short: "Run a built-in plugin out of process"}
	serve := &cobra.Command{
		Use:       "serve NAME",
		Short:     "Serve a built-in plugin over go-plugin (started by the plugin host)",
		Args:      cobra.ExactArgs(1),
		ValidArgs: builtin.Names(),
		RunE: func(_ *cobra.Command, args []string) error {
			impl, ok := builtin.New(args[0])
			if !ok {
				return fmt.Errorf("plugin serve: no built-in plugin %q (have %s)", args[0], strings.Join(builtin.Names(), ", "))
			}
			plugins.Serve(impl)
			return nil
		},
	}
	cmd.AddCommand(serve)
	return cmd
}
