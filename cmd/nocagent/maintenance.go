package main

import (
	"encoding/json"
	"fmt"
	"github.com/nocagent/nocagent/agent"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

type maintenanceWindow = agent.MaintenanceWindow

// newMaintenanceCmd is "nocagent maintenance list|add|remove" over the
// agent's API, with the same credentials flags as "tickets".
func newMaintenanceCmd(stdout io.Writer) *cobra.Command {
	// The tickets command owns the API client and its flags; reuse both.
	c := &ticketsClient{stdout: stdout}
	cmd := &cobra.Command{
		Use:          "maintenance",
		Short:        "List, add and remove maintenance windows through the agent's API",
		SilenceUsage: true,
	}
	c.addFlags(cmd)

	list := &cobra.Command{
		Use:   "list",
		Short: "List maintenance windows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ws []maintenanceWindow
			raw, err := c.do(cmd.Context(), "GET", "/api/v1/maintenance", nil, &ws)
			if c.json || err != nil {
				return c.printJSON(raw, err)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tACTIVE\tWHEN\tSCOPE\tREASON")
			for _, w := range ws {
				fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\n", w.ID, w.Active, when(w), scope(w), w.Reason)
			}
			return tw.Flush()
		},
	}
	var w maintenanceWindow
	var start, end string
	add := &cobra.Command{
		Use:   "add ID",
		Short: "Add or replace a maintenance window (alerts inside it open no ticket)",
		Example: `  nocagent maintenance add chg-1042 --device core-01 --start 2026-12-01T22:00:00Z --end 2026-12-02T02:00:00Z --reason "IOS upgrade"
  nocagent maintenance add weekly --customer acme --schedule "0 2 * * SUN" --duration 2h --reason "weekly change window"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w.ID = args[0]
			for _, x := range []struct {
				in  string
				out *time.Time
				fl  string
			}{{start, &w.Start, "--start"}, {end, &w.End, "--end"}} {
				if x.in == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, x.in)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("%s: want RFC 3339 time such as 2026-12-01T22:00:00Z: %w", x.fl, err)}
				}
				*x.out = t
			}
			body, _ := json.Marshal(w)
			var got maintenanceWindow
			raw, err := c.do(cmd.Context(), "POST", "/api/v1/maintenance", body, &got)
			if c.json || err != nil {
				return c.printJSON(raw, err)
			}
			fmt.Fprintf(stdout, "maintenance window %s set (%s, %s), active now: %v\n", got.ID, when(got), scope(got), got.Active)
			return nil
		},
	}
	af := add.Flags()
	af.StringVar(&w.Reason, "reason", "", "why (change number, work done)")
	af.StringVar(&start, "start", "", "start of a one-off window (RFC 3339)")
	af.StringVar(&end, "end", "", "end of a one-off window (RFC 3339)")
	af.StringVar(&w.Schedule, "schedule", "", `cron of a recurring window, e.g. "0 2 * * SUN"`)
	af.StringVar(&w.Duration, "duration", "", "length of each recurring window, e.g. 2h")
	af.StringSliceVar(&w.Devices, "device", nil, "device names (repeatable)")
	af.StringSliceVar(&w.Sites, "site", nil, "site ids (repeatable)")
	af.StringSliceVar(&w.Customers, "customer", nil, "customer ids (repeatable)")
	af.StringSliceVar(&w.Tags, "tag", nil, "device tags (repeatable)")
	af.BoolVar(&w.Everything, "everything", false, "every device")

	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a maintenance window; faults still present then open their tickets",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := c.do(cmd.Context(), "DELETE", "/api/v1/maintenance/"+args[0], nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "maintenance window %s removed\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, add, remove)
	return cmd
}

func when(w maintenanceWindow) string {
	if w.Schedule != "" {
		return fmt.Sprintf("%q for %s", w.Schedule, w.Duration)
	}
	return w.Start.Format(time.RFC3339) + " – " + w.End.Format(time.RFC3339)
}

func scope(w maintenanceWindow) string {
	if w.Everything {
		return "everything"
	}
	var parts []string
	for _, x := range []struct {
		k string
		v []string
	}{{"devices", w.Devices}, {"sites", w.Sites}, {"customers", w.Customers}, {"tags", w.Tags}} {
		if len(x.v) > 0 {
			parts = append(parts, x.k+" "+strings.Join(x.v, ","))
		}
	}
	return strings.Join(parts, "; ")
}
