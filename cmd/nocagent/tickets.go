package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/httpapi"
)

// ticketsClient talks to a running agent's ticket API.
type ticketsClient struct {
	api       string
	token     string
	tokenFile string
	role      string
	json      bool
	timeout   time.Duration
	stdout    io.Writer
}

// newTicketsCmd is "nocagent tickets list|show|<action>|survey": the ticket
// API from a shell, with the token of one role.
func newTicketsCmd(stdout io.Writer) *cobra.Command {
	c := &ticketsClient{stdout: stdout}
	cmd := &cobra.Command{
		Use:   "tickets",
		Short: "List, show and work tickets through the agent's API",
		Long: `tickets calls a running agent's ticket API. Authenticate with --token, or
with --token-file (the agent's tokens.json) and --role naming the key to use
("engineer", "manager", "customer:acme"...). --json prints the API's answer
as it is.`,
		// An API refusal is not a usage mistake: print the reason only.
		SilenceUsage: true,
	}
	c.addFlags(cmd)

	cmd.AddCommand(c.listCmd(), c.showCmd(), c.surveyCmd())
	for _, act := range ticketing.Actions {
		cmd.AddCommand(c.actionCmd(act))
	}
	return cmd
}

func (c *ticketsClient) listCmd() *cobra.Command {
	var (
		q    = url.Values{}
		open bool
		lim  int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tickets, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range []string{"state", "priority", "customer", "affecting", "device", "assignee"} {
				if v, _ := cmd.Flags().GetString(name); v != "" {
					q.Set(name, v)
				}
			}
			if open {
				q.Set("open", "true")
			}
			if lim > 0 {
				q.Set("limit", strconv.Itoa(lim))
			}
			target := "/api/v1/tickets"
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			var resp httpapi.ListResponse
			raw, err := c.do(cmd.Context(), http.MethodGet, target, nil, &resp)
			if err != nil || c.json {
				return c.printJSON(raw, err)
			}
			return c.printList(resp.Tickets)
		},
	}
	fl := cmd.Flags()
	fl.String("state", "", "new, acknowledged, in_progress, resolved, verified, confirmed, closed, cancelled")
	fl.String("priority", "", "P1..P4")
	fl.String("customer", "", "customer of the ticket's device")
	fl.String("affecting", "", "customer of the ticket's device or of one of its impacted devices")
	fl.String("device", "", "device name")
	fl.String("assignee", "", "engineer")
	fl.BoolVar(&open, "open", false, "only tickets that still need work")
	fl.IntVar(&lim, "limit", 0, fmt.Sprintf("at most this many (1..%d; default %d)", ticketing.MaxListLimit, ticketing.DefaultListLimit))
	return cmd
}

func (c *ticketsClient) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a ticket with its impacted devices, evidence and timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t ticketing.Ticket
			raw, err := c.do(cmd.Context(), http.MethodGet, "/api/v1/tickets/"+url.PathEscape(args[0]), nil, &t)
			if err != nil || c.json {
				return c.printJSON(raw, err)
			}
			return c.printTicket(t)
		},
	}
}

// actionHelp says what each action needs, for its usage line.
var actionHelp = map[ticketing.Action]string{
	ticketing.ActAck:      "Acknowledge a new ticket",
	ticketing.ActAssign:   "Assign a ticket to an engineer (--to)",
	ticketing.ActNote:     "Add a note (the text after the id, or --note)",
	ticketing.ActEscalate: "Escalate to the next tier (--reason)",
	ticketing.ActHold:     "Wait for the customer (--reason: what they are to provide)",
	ticketing.ActResume:   "Stop waiting for the customer",
	ticketing.ActResolve:  "Resolve (--cause and --solution)",
	ticketing.ActCause:    "Record the cause and solution of a ticket monitoring resolved (--cause and --solution)",
	ticketing.ActVerify:   "Verify a resolution",
	ticketing.ActConfirm:  "Confirm a verified resolution (customer)",
	ticketing.ActClose:    "Close a verified or confirmed ticket (--reason without confirmation)",
	ticketing.ActCancel:   "Cancel a ticket (--reason)",
	ticketing.ActReopen:   "Reopen a resolved ticket (--reason)",
	ticketing.ActMode:     "Set the service mode (--mode remote_guidance|remote_login|on_site, --appointment for on_site)",
	ticketing.ActArrive:   "Record arrival on site",
	ticketing.ActReport:   "Record the on-site service report (--work, --parts, --signed-by)",
}

func (c *ticketsClient) actionCmd(act ticketing.Action) *cobra.Command {
	var in ticketing.ActionInput
	var appointment string
	use := string(act) + " ID"
	if act == ticketing.ActNote {
		use += " [TEXT...]"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: actionHelp[act],
		Args: func(cmd *cobra.Command, args []string) error {
			if act == ticketing.ActNote {
				return cobra.MinimumNArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if act == ticketing.ActNote && len(args) > 1 {
				in.Note = strings.Join(args[1:], " ")
			}
			if appointment != "" {
				at, err := time.Parse(time.RFC3339, appointment)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--appointment: want RFC 3339 time such as 2026-12-01T09:30:00+08:00: %w", err)}
				}
				in.AppointmentAt = &at
			}
			body, err := json.Marshal(in)
			if err != nil {
				return fmt.Errorf("encode %s input: %w", act, err)
			}
			var t ticketing.Ticket
			raw, err := c.do(cmd.Context(), http.MethodPost,
				"/api/v1/tickets/"+url.PathEscape(args[0])+"/actions/"+string(act), body, &t)
			if err != nil || c.json {
				return c.printJSON(raw, err)
			}
			fmt.Fprintf(c.stdout, "%s %s: now %s, %s, assignee %s\n", t.ID, act, t.State, t.Priority, orDash(t.Assignee))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Note, "note", "", "remark recorded with the action")
	switch act {
	case ticketing.ActNote:
		f.StringVar(&in.Visibility, "visibility", "", "internal (staff only; the default for staff) or public (the customer sees it)")
	case ticketing.ActAssign:
		f.StringVar(&in.Assignee, "to", "", "engineer to assign")
	case ticketing.ActEscalate, ticketing.ActHold, ticketing.ActClose, ticketing.ActCancel, ticketing.ActReopen:
		f.StringVar(&in.Reason, "reason", "", "why")
	case ticketing.ActResolve, ticketing.ActCause:
		f.StringVar(&in.Cause, "cause", "", "what caused the fault")
		f.StringVar(&in.Solution, "solution", "", "what fixed it")
	case ticketing.ActMode:
		f.StringVar((*string)(&in.Mode), "mode", "", "remote_guidance, remote_login or on_site")
		f.StringVar(&appointment, "appointment", "", "on-site appointment time (RFC 3339)")
	case ticketing.ActReport:
		f.StringVar(&in.Work, "work", "", "what was done on site")
		f.StringVar(&in.PartsReplaced, "parts", "", "parts replaced")
		f.StringVar(&in.SignedBy, "signed-by", "", "customer representative who signed the report")
	}
	return cmd
}

func (c *ticketsClient) surveyCmd() *cobra.Command {
	var in ticketing.SurveyInput
	var rating string
	cmd := &cobra.Command{
		Use:   "survey ID",
		Short: "Answer a closed ticket's satisfaction survey (customer)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Rating = ticketing.Rating(rating)
			body, err := json.Marshal(in)
			if err != nil {
				return fmt.Errorf("encode survey: %w", err)
			}
			var sv ticketing.Survey
			raw, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/tickets/"+url.PathEscape(args[0])+"/survey", body, &sv)
			if err != nil || c.json {
				return c.printJSON(raw, err)
			}
			fmt.Fprintf(c.stdout, "%s survey recorded: %s\n", args[0], sv.Rating)
			if sv.FollowUpID != "" {
				fmt.Fprintf(c.stdout, "follow-up task %s opened\n", sv.FollowUpID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rating, "rating", "", "very_satisfied, satisfied, neutral or unsatisfied")
	cmd.Flags().StringVar(&in.Comment, "comment", "", "free text")
	return cmd
}

// bearer resolves the token: --token, or --role's entry in --token-file.
// Errors name the file and the keys, never a token.
// addFlags adds the API and credential flags every API command shares.
func (c *ticketsClient) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.api, "api", "http://127.0.0.1:9310", "agent API base URL")
	f.StringVar(&c.token, "token", "", "bearer token (prefer --token-file: a flag shows in ps)")
	f.StringVar(&c.tokenFile, "token-file", "", "tokens.json to read the token of --role from")
	f.StringVar(&c.role, "role", "", `key in --token-file: admin, manager, engineer, customer:<id>...`)
	f.BoolVar(&c.json, "json", false, "print JSON")
	f.DurationVar(&c.timeout, "timeout", 15*time.Second, "per request")
}

func (c *ticketsClient) bearer() (string, error) {
	switch {
	case c.token != "" && c.tokenFile != "":
		return "", errors.New("give --token or --token-file, not both")
	case c.token != "":
		return c.token, nil
	case c.tokenFile == "":
		return "", errors.New("no credentials: give --token-file (the agent's tokens.json) with --role, or --token")
	}
	b, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("read tokens: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		// json's error may quote the file's bytes, and they are tokens.
		return "", fmt.Errorf("tokens %s: not a JSON object of role keys to tokens", c.tokenFile)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if c.role == "" {
		return "", fmt.Errorf("tokens %s: say which key to use with --role (one of %s)", c.tokenFile, strings.Join(keys, ", "))
	}
	tok, ok := m[c.role]
	if !ok || tok == "" {
		return "", fmt.Errorf("tokens %s: no token for role %q (have %s)", c.tokenFile, c.role, strings.Join(keys, ", "))
	}
	return tok, nil
}

// do sends one request and decodes a 2xx answer into out. It returns the
// raw body for --json. An API error comes back with its code and message.
func (c *ticketsClient) do(ctx context.Context, method, target string, body []byte, out any) ([]byte, error) {
	tok, err := c.bearer()
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(c.api, "/") + target
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		var e httpapi.ErrorResponse
		if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
			return nil, fmt.Errorf("%s %s: %s (%s)", method, target, e.Error.Message, e.Error.Code)
		}
		return nil, fmt.Errorf("%s %s: HTTP %s", method, target, resp.Status)
	}
	if out == nil || len(raw) == 0 { // 204 No Content
		return raw, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("%s %s: decode answer: %w", method, target, err)
	}
	return raw, nil
}

func (c *ticketsClient) printJSON(raw []byte, err error) error {
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("format answer: %w", err)
	}
	buf.WriteByte('\n')
	_, err = c.stdout.Write(buf.Bytes())
	return err
}

func (c *ticketsClient) printList(ts []ticketing.Ticket) error {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPRIO\tSTATE\tCATEGORY\tDEVICE\tCUSTOMER\tIMPACTED\tASSIGNEE\tOPENED\tTITLE")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Priority, t.State, t.Category,
			orDash(t.Device.Name), orDash(t.Device.Customer), impactSummary(t), orDash(t.Assignee),
			t.OpenedAt.UTC().Format("2006-01-02 15:04"), t.Title)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(c.stdout, "%d tickets\n", len(ts))
	return err
}

// clockLine is one SLA clock for people: "15m, due 2025-03-10 09:15 (15m0s
// left)", or "... BREACHED by 5m0s".
func clockLine(c ticketing.Clock, paused bool) string {
	s := c.Target
	if c.DueAt != nil {
		s += ", due " + c.DueAt.UTC().Format("2006-01-02 15:04")
	}
	rem := time.Duration(c.RemainingSeconds) * time.Second
	switch {
	case c.Breached:
		s += fmt.Sprintf(" BREACHED by %s", -rem)
	case c.Met():
		s += " (met)"
	default:
		s += fmt.Sprintf(" (%s left)", rem)
	}
	if paused {
		s += ", paused"
	}
	return s
}

// impactSummary is "-" or "<down>/<listed>": devices still cut off of
// those the outage reached.
func impactSummary(t ticketing.Ticket) string {
	if len(t.ImpactedDevices) == 0 {
		return "-"
	}
	down := 0
	for _, d := range t.ImpactedDevices {
		if !d.Recovered {
			down++
		}
	}
	return fmt.Sprintf("%d/%d", down, len(t.ImpactedDevices))
}

func (c *ticketsClient) printTicket(t ticketing.Ticket) error {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s:\t%s\n", k, v)
		}
	}
	row("Ticket", t.ID+"  "+t.Title)
	row("Priority", string(t.Priority))
	state := string(t.State)
	if t.WaitingCustomer {
		state += " (waiting for the customer)"
	}
	row("State", state)
	row("Category", t.Category+" ("+t.Source+")")
	row("Device", strings.Join(slices.DeleteFunc([]string{t.Device.Name, t.Device.Address, t.Device.Model, t.Device.Serial},
		func(s string) bool { return s == "" }), "  "))
	row("Customer", t.Device.Customer)
	row("Customers affected", strings.Join(t.ImpactedCustomers, ", "))
	row("Assignee", orDash(t.Assignee))
	row("Tier", ticketing.TierName(t.Tier))
	row("Opened", t.OpenedAt.UTC().Format(time.RFC3339))
	if t.ResolvedAt != nil {
		row("Resolved", t.ResolvedAt.UTC().Format(time.RFC3339)+" by "+t.ResolvedBy)
	}
	row("Cause", t.Cause)
	row("Solution", t.Solution)
	if t.SLA != nil {
		row("Response SLA", clockLine(t.SLA.Response, t.SLA.Paused))
		row("Resolution SLA", clockLine(t.SLA.Resolution, t.SLA.Paused))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(t.ImpactedDevices) > 0 {
		fmt.Fprintf(c.stdout, "\nImpacted devices (%s down/listed):\n", impactSummary(t))
		w = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  NAME\tSERIAL\tCUSTOMER\tSTATUS")
		for _, d := range t.ImpactedDevices {
			status := "down since " + d.AddedAt.UTC().Format("2006-01-02 15:04")
			if d.Recovered && d.RecoveredAt != nil {
				status = "recovered " + d.RecoveredAt.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", d.Name, orDash(d.Serial), orDash(d.Customer), status)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(t.Evidence) > 0 {
		fmt.Fprintln(c.stdout, "\nEvidence:")
		w = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, e := range t.Evidence {
			st := "firing"
			if !e.Firing {
				st = "cleared"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", e.At.UTC().Format("2006-01-02 15:04:05"), e.Rule, st, e.Summary)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if len(t.Timeline) > 0 {
		fmt.Fprintln(c.stdout, "\nTimeline:")
		w = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, e := range t.Timeline {
			change := ""
			if e.From != "" || e.To != "" {
				change = orDash(e.From) + " -> " + orDash(e.To)
			}
			fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.UTC().Format("2006-01-02 15:04:05"), e.Actor, e.Kind, change, e.Note)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}
