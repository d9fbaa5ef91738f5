package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/agent"
	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/httpapi"
)

// newUsersCmd is "nocagent users add|list|revoke": per-person API
// accounts in the data directory's users.json, which a running agent
// reads again when it changes. Tokens are shown once and stored hashed.
func newUsersCmd(stdout io.Writer) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Add, list and revoke per-person API accounts (engineer bob, manager li.wei)",
		Long: `Each person gets their own token, so the timeline, approvals and the API's
audit lines name who acted, not only the role. Tokens are printed once, when
made, and stored only as SHA-256 digests in <data_dir>/users.json; a running
agent picks up changes within a second. The per-role tokens of tokens.json
(the demo's bootstrap) keep working beside them.`,
		SilenceUsage: true,
	}
	cmd.PersistentFlags().StringVarP(&cfgPath, "config", "c", "nocagent.yaml", "the agent's configuration (its data_dir holds users.json)")
	load := func() (*inventory.Config, string, error) {
		cfg, err := inventory.Load(cfgPath)
		if err != nil {
			return nil, "", fmt.Errorf("%s is not valid (nocagent check-config %s): %w", cfgPath, cfgPath, err)
		}
		return cfg, agent.UsersFile(cfg), nil
	}

	var role, customer string
	var expires time.Duration
	add := &cobra.Command{
		Use:     "add NAME --role engineer|manager|admin|customer [--customer ID] [--expires 2160h]",
		Short:   "Make an account and print its token (once)",
		Example: "  nocagent users add bob --role engineer --expires 2160h\n  nocagent users add li.wei --role customer --customer acme",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, path, err := load()
			if err != nil {
				return err
			}
			if customer != "" {
				if _, ok := cfg.Customer(customer); !ok {
					return fmt.Errorf("--customer %s is not a customer of %s", customer, cfgPath)
				}
			}
			u, tok, err := httpapi.NewUser(args[0], ticketing.Role(role), customer, time.Now(), expires)
			if err != nil {
				return err
			}
			if err := httpapi.AddUser(path, u); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s (%s) added; token (shown once, keep it safe):\n%s\n", u.Name, u.Role, tok)
			if !u.ExpiresAt.IsZero() {
				fmt.Fprintf(stdout, "expires %s\n", u.ExpiresAt.Format(time.RFC3339))
			}
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "engineer, manager, admin or customer")
	add.Flags().StringVar(&customer, "customer", "", "the customer's id (role customer)")
	add.Flags().DurationVar(&expires, "expires", 0, "token lifetime, e.g. 2160h for 90 days (0: no expiry)")
	_ = add.MarkFlagRequired("role")

	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts (never their tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, path, err := load()
			if err != nil {
				return err
			}
			us, err := httpapi.LoadUsers(path)
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tCUSTOMER\tCREATED\tEXPIRES\tSTATE")
			for _, u := range us {
				state := "active"
				switch {
				case !u.RevokedAt.IsZero():
					state = "revoked " + u.RevokedAt.Format(time.RFC3339)
				case !u.Active(now):
					state = "expired"
				}
				exp := "-"
				if !u.ExpiresAt.IsZero() {
					exp = u.ExpiresAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, orDash(u.Customer), u.CreatedAt.Format(time.RFC3339), exp, state)
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Refuse an account's token from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, path, err := load()
			if err != nil {
				return err
			}
			if err := httpapi.RevokeUser(path, strings.TrimSpace(args[0]), time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %s revoked\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(add, list, revoke)
	return cmd
}
