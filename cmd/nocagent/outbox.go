package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/ticketing"
)

// newOutboxCmd is "nocagent outbox list|retry" over the agent's API:
// notices a receiver refused for good, or that failed too often, wait
// there for a person.
func newOutboxCmd(stdout io.Writer) *cobra.Command {
	c := &ticketsClient{stdout: stdout}
	cmd := &cobra.Command{
		Use:          "outbox",
		Short:        "List and retry dead letters: notices that were not delivered (managers, admins)",
		SilenceUsage: true,
	}
	c.addFlags(cmd)
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead letters with their channel, ticket and last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var dead []ticketing.OutboxMessage
			raw, err := c.do(cmd.Context(), "GET", "/api/v1/outbox/dead", nil, &dead)
			if c.json || err != nil {
				return c.printJSON(raw, err)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCHANNEL\tTICKET\tEVENT\tATTEMPTS\tDEAD SINCE\tLAST ERROR")
			for _, m := range dead {
				since := "-"
				if m.DeadAt != nil {
					since = m.DeadAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Channel, m.TicketID, m.Kind, m.Attempts, since, m.LastError)
			}
			return tw.Flush()
		},
	}
	retry := &cobra.Command{
		Use:   "retry ID...",
		Short: "Send dead letters again (after fixing the receiver or the address)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range args {
				if _, err := c.do(cmd.Context(), "POST", "/api/v1/outbox/"+id+"/retry", nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "outbox message %s queued again\n", id)
			}
			return nil
		},
	}
	cmd.AddCommand(list, retry)
	return cmd
}
