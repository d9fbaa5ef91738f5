// Package jira is the built-in ticket sink "jira": it mirrors nocagent
// tickets into a Jira Service Management (or Jira Software) project over
// Jira's REST API v2 and pulls back the status changes people make there.
//
// Push finds the issue of a ticket by its external id (the issue key) or,
// failing that, by the label "<label_prefix><ticket id>" (JQL search), so
// a lost key never creates a duplicate; it creates the issue (POST
// /rest/api/2/issue) or updates summary, description and priority (PUT),
// then moves it to the Jira status mapped from the ticket's state through
// whichever transition the workflow offers to that status (GET and POST
// /rest/api/2/issue/{key}/transitions).
//
// Pull searches the project's nocagent issues updated since a time (JQL
// "updated >=", minute precision in the API user's time zone, so the
// result is filtered again here) with their changelog, and returns each
// status change made after that time by someone other than the API
// account itself (its own transitions are echoes of Push), oldest first.
//
// Credentials are in the config's "auth" object: email + api_token
// (Jira Cloud basic auth), username + password (Data Center basic auth)
// or token (Data Center personal access token, sent as a bearer token).
// They are never logged or put in errors.
package jira

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nocagent/nocagent/plugins"
)

// Name is the plugin's name.
const (
	Name    = "jira"
	version = "1.0.0"
)

// Config is what Configure accepts (JSON).
type Config struct {
	BaseURL    string `json:"base_url"`    // https://example.atlassian.net
	ProjectKey string `json:"project_key"` // NOC
	IssueType  string `json:"issue_type"`  // default "Incident"
	// Priorities maps nocagent priorities to Jira priority names; default
	// P1 Highest, P2 High, P3 Medium, P4 Low, P5 Lowest.
	Priorities map[string]string `json:"priorities"`
	// Statuses maps nocagent states to the Jira status Push moves the
	// issue to; a state without one is not pushed as a transition.
	// Defaults follow the JSM IT incident workflow (see defaultStatuses).
	Statuses map[string]string `json:"statuses"`
	// PullStates maps Jira status names to nocagent states for Pull; a
	// status change to an unmapped status comes back as a note. Default:
	// the reverse of Statuses (in_progress for "Work in progress").
	PullStates map[string]string `json:"pull_states"`
	// LabelPrefix + ticket id is the label that finds an issue (default
	// "nocagent-"); Label is on every issue nocagent creates (default
	// "nocagent") and scopes Pull.
	LabelPrefix string `json:"label_prefix"`
	Label       string `json:"label"`
	// JQLTimeZone is the API account's time zone in Jira (IANA name):
	// JQL dates are read in it. Default UTC.
	JQLTimeZone    string   `json:"jql_time_zone"`
	RequestTimeout duration `json:"request_timeout"` // default 15s
	MaxRetries     *int     `json:"max_retries"`     // on 429/503; default 3
	MaxRetryWait   duration `json:"max_retry_wait"`  // cap on one wait; default 60s
	// Auth holds the credentials; it formats, logs and marshals redacted.
	Auth plugins.Secrets `json:"auth"`
}

const configSchema = `{"type":"object","additionalProperties":false,"required":["base_url","project_key","auth"],"properties":{
"base_url":{"type":"string","format":"uri"},"project_key":{"type":"string","pattern":"^[A-Z][A-Z0-9_]*$"},
"issue_type":{"type":"string"},
"priorities":{"type":"object","additionalProperties":{"type":"string"}},
"statuses":{"type":"object","additionalProperties":{"type":"string"}},
"pull_states":{"type":"object","additionalProperties":{"type":"string"}},
"label_prefix":{"type":"string"},"label":{"type":"string"},"jql_time_zone":{"type":"string"},
"request_timeout":{"type":"string"},"max_retries":{"type":"integer","minimum":0,"maximum":10},"max_retry_wait":{"type":"string"},
"auth":{"type":"object","properties":{"email":{"type":"string"},"api_token":{"type":"string"},
  "username":{"type":"string"},"password":{"type":"string"},"token":{"type":"string"}}}}}`

type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"15s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("bad duration %q", s)
	}
	*d = duration(v)
	return nil
}

var defaultPriorities = map[string]string{"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}

// defaultStatuses follows the statuses of Jira Service Management's IT
// incident workflow. "new" has none: a new issue is already in the
// workflow's first status.
var defaultStatuses = map[string]string{
	"acknowledged": "Work in progress", "in_progress": "Work in progress",
	"resolved": "Resolved", "verified": "Resolved", "confirmed": "Closed", "closed": "Closed",
	"cancelled": "Canceled",
}

var (
	projectKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	labelRE      = regexp.MustCompile(`^[^\s"]{1,255}$`)
)

// Options are the host-side dependencies of a Sink.
type Options struct {
	HTTPClient *http.Client     // nil: a client with the config's timeout
	Logger     *slog.Logger     // nil: discard
	Now        func() time.Time // Retry-After dates; nil: time.Now
	// Sleep waits between retries; nil: a timer that ctx ends.
	Sleep func(context.Context, time.Duration) error
}

// Sink is the jira ticket sink. Configure must be called before use (the
// host does); it is safe for concurrent use.
type Sink struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	cfg     *Config // nil: not configured
	cl      *client
	loc     *time.Location
	self    *user // the API account, learnt once from /myself
	secrets []string
}

// New returns an unconfigured Sink: it refuses Push and Pull until
// Configure gives it a Jira to talk to.
func New(opts Options) *Sink {
	s := &Sink{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if s.opts.Sleep == nil {
		s.opts.Sleep = sleep
	}
	return s
}

// Info implements plugins.Base.
func (s *Sink) Info(context.Context) (plugins.Info, error) {
	return plugins.Info{Name: Name, Kind: plugins.KindTicketSink, Version: version,
		APIVersions: []int{plugins.APIVersion}, ConfigSchema: []byte(configSchema)}, nil
}

// Configure implements plugins.Base. nil or empty config leaves the sink
// unconfigured (loaded, but Push and Pull fail saying so).
func (s *Sink) Configure(_ context.Context, raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		s.mu.Lock()
		s.cfg, s.cl = nil, nil
		s.mu.Unlock()
		return nil
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		// json errors quote types and field names, never values.
		return fmt.Errorf("%w: %s config: %v", plugins.ErrInvalid, Name, err)
	}
	cl, loc, err := s.check(&cfg)
	if err != nil {
		return fmt.Errorf("%w: %s config: %v", plugins.ErrInvalid, Name, err)
	}
	// The encoded header is as secret as what it encodes.
	_, cred, _ := strings.Cut(cl.authHeader, " ")
	secrets := []string{cred}
	for _, v := range cfg.Auth {
		if len(v) >= 4 {
			secrets = append(secrets, v)
		}
	}
	s.mu.Lock()
	s.cfg, s.cl, s.loc, s.self, s.secrets = &cfg, cl, loc, nil, secrets
	s.mu.Unlock()
	return nil
}

// check fills defaults and builds the client.
func (s *Sink) check(cfg *Config) (*client, *time.Location, error) {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, nil, fmt.Errorf("base_url %q is not an http(s) URL", cfg.BaseURL)
	case u.User != nil:
		return nil, nil, errors.New("base_url must not carry credentials: put them in auth")
	case !projectKeyRE.MatchString(cfg.ProjectKey):
		return nil, nil, fmt.Errorf("project_key %q is not a Jira project key (A-Z, 0-9, _)", cfg.ProjectKey)
	}
	cfg.IssueType = cmpOr(cfg.IssueType, "Incident")
	cfg.LabelPrefix = cmpOr(cfg.LabelPrefix, "nocagent-")
	cfg.Label = cmpOr(cfg.Label, "nocagent")
	if !labelRE.MatchString(cfg.Label) || !labelRE.MatchString(cfg.LabelPrefix+"x") {
		return nil, nil, errors.New("label and label_prefix must not contain spaces or quotes")
	}
	if cfg.Priorities == nil {
		cfg.Priorities = defaultPriorities
	}
	if cfg.Statuses == nil {
		cfg.Statuses = defaultStatuses
	}
	if cfg.PullStates == nil {
		cfg.PullStates = map[string]string{}
		for state, st := range cfg.Statuses {
			// "Work in progress" is both acknowledged and in_progress:
			// someone working on it in Jira means in_progress.
			if prev, ok := cfg.PullStates[st]; !ok || state == "in_progress" || (prev != "in_progress" && state < prev) {
				cfg.PullStates[st] = state
			}
		}
	}
	loc := time.UTC
	if cfg.JQLTimeZone != "" {
		if loc, err = time.LoadLocation(cfg.JQLTimeZone); err != nil {
			return nil, nil, fmt.Errorf("jql_time_zone: %w", err)
		}
	}
	a := cfg.Auth
	var header string
	switch {
	case a["token"] != "":
		header = "Bearer " + a["token"]
	case a["email"] != "" && a["api_token"] != "":
		header = basicAuth(a["email"], a["api_token"])
	case a["username"] != "" && a["password"] != "":
		header = basicAuth(a["username"], a["password"])
	default:
		return nil, nil, errors.New("auth needs token, email + api_token, or username + password")
	}
	cl := &client{base: u, authHeader: header, log: s.log, now: s.opts.Now, sleep: s.opts.Sleep,
		retries: 3, maxWait: time.Minute, timeout: 15 * time.Second, http: s.opts.HTTPClient}
	if cfg.MaxRetries != nil {
		cl.retries = max(*cfg.MaxRetries, 0)
	}
	if cfg.MaxRetryWait > 0 {
		cl.maxWait = time.Duration(cfg.MaxRetryWait)
	}
	if cfg.RequestTimeout > 0 {
		cl.timeout = time.Duration(cfg.RequestTimeout)
	}
	if cl.http == nil {
		cl.http = &http.Client{Timeout: cl.timeout}
	}
	return cl, loc, nil
}

// state is a snapshot of the configuration for one call.
type state struct {
	cfg  *Config
	cl   *client
	loc  *time.Location
	sink *Sink
}

func (s *Sink) snapshot() (state, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil {
		return state{}, fmt.Errorf("%w: %s is not configured (base_url, project_key and auth are needed)", plugins.ErrInvalid, Name)
	}
	return state{cfg: s.cfg, cl: s.cl, loc: s.loc, sink: s}, nil
}

// scrub removes credential values from an error's text, in case a proxy
// or Jira echoes one back in an error body.
func (s *Sink) scrub(err error) error {
	if err == nil {
		return nil
	}
	s.mu.Lock()
	secrets := s.secrets
	s.mu.Unlock()
	msg := err.Error()
	for _, v := range secrets {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// ---- Jira JSON (REST API v2) ----

type status struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type issueFields struct {
	Status  *status  `json:"status"`
	Labels  []string `json:"labels"`
	Updated string   `json:"updated"`
}

type issue struct {
	ID        string      `json:"id"`
	Key       string      `json:"key"`
	Fields    issueFields `json:"fields"`
	Changelog *changelog  `json:"changelog"`
}

type changelog struct {
	Histories []history `json:"histories"`
}

type user struct {
	AccountID   string `json:"accountId"` // Cloud
	Name        string `json:"name"`      // Data Center
	Key         string `json:"key"`       // Data Center
	DisplayName string `json:"displayName"`
}

func (u user) same(v user) bool {
	return (u.AccountID != "" && u.AccountID == v.AccountID) || (u.AccountID == "" && u.Name != "" && u.Name == v.Name)
}

type history struct {
	ID      string        `json:"id"`
	Author  user          `json:"author"`
	Created string        `json:"created"`
	Items   []historyItem `json:"items"`
}

type historyItem struct {
	Field      string `json:"field"`
	FromString string `json:"fromString"`
	ToString   string `json:"toString"`
}

type searchResult struct {
	StartAt    int      `json:"startAt"`
	MaxResults int      `json:"maxResults"`
	Total      *int     `json:"total"`
	Issues     *[]issue `json:"issues"`
}

type transition struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	To   *status `json:"to"`
}

// jiraTime is the layout of Jira's timestamps: 2025-03-01T10:00:00.000+0000.
const jiraTime = "2006-01-02T15:04:05.000-0700"

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(jiraTime, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	return t, err
}

// ---- Push ----

// Push implements plugins.TicketSink. It returns the issue key. If the
// issue was created or updated but the transition failed, it returns the
// key together with the error, so the caller can keep the link.
func (s *Sink) Push(ctx context.Context, t plugins.SinkTicket) (string, error) {
	key, err := s.push(ctx, t)
	return key, s.scrub(err)
}

func (s *Sink) push(ctx context.Context, t plugins.SinkTicket) (string, error) {
	st, err := s.snapshot()
	if err != nil {
		return "", err
	}
	if t.ID == "" || !labelRE.MatchString(st.cfg.LabelPrefix+t.ID) {
		return "", fmt.Errorf("%w: %s: ticket id %q cannot be a Jira label", plugins.ErrInvalid, Name, t.ID)
	}
	prio, ok := st.cfg.Priorities[t.Priority]
	if !ok && t.Priority != "" {
		return "", fmt.Errorf("%w: %s: ticket %s: priority %q has no Jira priority (priorities config)", plugins.ErrInvalid, Name, t.ID, t.Priority)
	}
	is, err := st.find(ctx, t)
	if err != nil {
		return "", fmt.Errorf("ticket %s: %w", t.ID, err)
	}
	fields := map[string]any{
		"summary":     summary(t),
		"description": description(t),
	}
	if prio != "" {
		fields["priority"] = map[string]string{"name": prio}
	}
	if is == nil {
		fields["project"] = map[string]string{"key": st.cfg.ProjectKey}
		fields["issuetype"] = map[string]string{"name": st.cfg.IssueType}
		fields["labels"] = []string{st.cfg.Label, st.cfg.LabelPrefix + t.ID}
		var created struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}
		if err := st.cl.do(ctx, http.MethodPost, "/rest/api/2/issue", nil, map[string]any{"fields": fields}, &created); err != nil {
			return "", fmt.Errorf("ticket %s: create issue: %w", t.ID, err)
		}
		if created.Key == "" {
			return "", fmt.Errorf("ticket %s: create issue: %w: the reply has no issue key", t.ID, ErrMalformedReply)
		}
		s.log.Info("jira issue created", "ticket", t.ID, "issue", created.Key)
		is = &issue{ID: created.ID, Key: created.Key}
	} else {
		if err := st.cl.do(ctx, http.MethodPut, "/rest/api/2/issue/"+url.PathEscape(is.Key), nil, map[string]any{"fields": fields}, nil); err != nil {
			return is.Key, fmt.Errorf("ticket %s: update issue %s: %w", t.ID, is.Key, err)
		}
		s.log.Info("jira issue updated", "ticket", t.ID, "issue", is.Key)
	}
	if err := st.transition(ctx, t, is); err != nil {
		return is.Key, fmt.Errorf("ticket %s: issue %s: %w", t.ID, is.Key, err)
	}
	return is.Key, nil
}

// find returns the ticket's issue, or nil when it has none yet.
func (st state) find(ctx context.Context, t plugins.SinkTicket) (*issue, error) {
	q := url.Values{"fields": {"status,labels"}}
	if t.ExternalID != "" {
		var is issue
		err := st.cl.do(ctx, http.MethodGet, "/rest/api/2/issue/"+url.PathEscape(t.ExternalID), q, nil, &is)
		switch {
		case err == nil && is.Key == "":
			return nil, fmt.Errorf("get issue %s: %w: the reply has no key", t.ExternalID, ErrMalformedReply)
		case err == nil:
			return &is, nil
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("get issue %s: %w", t.ExternalID, err)
		}
		// Deleted or moved: look for it by label, else create it again.
	}
	jql := fmt.Sprintf(`project = "%s" AND labels = "%s"`, st.cfg.ProjectKey, st.cfg.LabelPrefix+t.ID)
	res, err := st.search(ctx, jql, "status,labels", "", 0, 2)
	if err != nil {
		return nil, err
	}
	issues := *res.Issues
	if len(issues) == 0 {
		return nil, nil
	}
	// Two issues with one ticket's label: someone cloned it. The oldest
	// (lowest id) is the original.
	slices.SortFunc(issues, func(a, b issue) int {
		return cmp.Or(cmp.Compare(len(a.ID), len(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	return &issues[0], nil
}

func (st state) search(ctx context.Context, jql, fields, expand string, startAt, maxResults int) (searchResult, error) {
	q := url.Values{"jql": {jql}, "fields": {fields}, "startAt": {fmt.Sprint(startAt)}, "maxResults": {fmt.Sprint(maxResults)}}
	if expand != "" {
		q.Set("expand", expand)
	}
	var res searchResult
	if err := st.cl.do(ctx, http.MethodGet, "/rest/api/2/search", q, nil, &res); err != nil {
		return res, fmt.Errorf("search %q: %w", jql, err)
	}
	if res.Issues == nil || res.Total == nil {
		return res, fmt.Errorf("search %q: %w: the reply has no issues or total", jql, ErrMalformedReply)
	}
	for i, is := range *res.Issues {
		if is.Key == "" {
			return res, fmt.Errorf("search %q: %w: issue %d has no key", jql, ErrMalformedReply, i)
		}
	}
	return res, nil
}

// transition moves the issue to the status mapped from the ticket's
// state, through the transition the workflow offers to it.
func (st state) transition(ctx context.Context, t plugins.SinkTicket, is *issue) error {
	want := st.cfg.Statuses[t.State]
	if want == "" {
		return nil
	}
	if is.Fields.Status != nil && strings.EqualFold(is.Fields.Status.Name, want) {
		return nil
	}
	path := "/rest/api/2/issue/" + url.PathEscape(is.Key) + "/transitions"
	var res struct {
		Transitions *[]transition `json:"transitions"`
	}
	if err := st.cl.do(ctx, http.MethodGet, path, nil, nil, &res); err != nil {
		return fmt.Errorf("list transitions: %w", err)
	}
	if res.Transitions == nil {
		return fmt.Errorf("list transitions: %w: the reply has no transitions", ErrMalformedReply)
	}
	var offered []string
	for _, tr := range *res.Transitions {
		if tr.ID == "" || tr.To == nil {
			return fmt.Errorf("list transitions: %w: a transition has no id or target status", ErrMalformedReply)
		}
		if strings.EqualFold(tr.To.Name, want) {
			body := map[string]any{"transition": map[string]string{"id": tr.ID}}
			if err := st.cl.do(ctx, http.MethodPost, path, nil, body, nil); err != nil {
				return fmt.Errorf("transition %q to %s: %w", tr.Name, want, err)
			}
			st.sink.log.Info("jira issue transitioned", "ticket", t.ID, "issue", is.Key, "transition", tr.Name, "status", tr.To.Name)
			return nil
		}
		offered = append(offered, fmt.Sprintf("%q to %s", tr.Name, tr.To.Name))
	}
	if is.Fields.Status == nil {
		// Just created: it may already be in the wanted status.
		var cur issue
		if err := st.cl.do(ctx, http.MethodGet, "/rest/api/2/issue/"+url.PathEscape(is.Key), url.Values{"fields": {"status"}}, nil, &cur); err == nil &&
			cur.Fields.Status != nil && strings.EqualFold(cur.Fields.Status.Name, want) {
			return nil
		}
	}
	return fmt.Errorf("state %s maps to status %q, but the workflow offers no transition to it from here (offered: %s); fix the statuses config or the workflow",
		t.State, want, cmpOr(strings.Join(offered, ", "), "none"))
}

// summary is the issue summary: ticket id and title, within Jira's 255
// characters.
func summary(t plugins.SinkTicket) string {
	s := fmt.Sprintf("[%s] %s", t.ID, strings.Join(strings.Fields(t.Title), " "))
	if r := []rune(s); len(r) > 255 {
		s = string(r[:254]) + "…"
	}
	return s
}

// description is the ticket's description and a table of its facts, in
// Jira wiki markup (REST v2 takes wiki text, not ADF). The device rows let
// whoever works the issue in Jira find the box (site, serial for the
// vendor's RMA) and the contract it is served under.
func description(t plugins.SinkTicket) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(t.Description))
	b.WriteString("\n\n----\n||nocagent ticket|" + cell(t.ID) + "|\n")
	for _, row := range [][2]string{{"Customer", t.Customer}, {"Contract", t.Contract}, {"Site", t.Site},
		{"Device", t.Device}, {"Model", t.Model}, {"Serial", t.Serial}, {"Category", t.Category},
		{"Priority", t.Priority}, {"State", t.State}} {
		if row[1] != "" {
			fmt.Fprintf(&b, "||%s|%s|\n", row[0], cell(row[1]))
		}
	}
	if !t.UpdatedAt.IsZero() {
		fmt.Fprintf(&b, "||Updated|%s|\n", t.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// cell escapes the characters that end a wiki table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

// ---- Pull ----

// maxPullPages bounds one Pull; the next Pull continues from the last
// change it returned.
const (
	pullPageSize = 50
	maxPullPages = 20
)

// Pull implements plugins.TicketSink.
func (s *Sink) Pull(ctx context.Context, since time.Time) ([]plugins.SinkChange, error) {
	out, err := s.pull(ctx, since)
	return out, s.scrub(err)
}

func (s *Sink) pull(ctx context.Context, since time.Time) ([]plugins.SinkChange, error) {
	st, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	self, err := s.whoami(ctx, st)
	if err != nil {
		return nil, err
	}
	// JQL dates have minute precision in the account's zone: round down
	// and drop what is not after since below.
	jql := fmt.Sprintf(`project = "%s" AND labels = "%s" AND updated >= "%s" ORDER BY updated ASC`,
		st.cfg.ProjectKey, st.cfg.Label, since.In(st.loc).Format("2006/01/02 15:04"))
	var out []plugins.SinkChange
	for page, startAt := 0, 0; page < maxPullPages; page++ {
		res, err := st.search(ctx, jql, "status,labels,updated", "changelog", startAt, pullPageSize)
		if err != nil {
			return nil, err
		}
		for _, is := range *res.Issues {
			changes, err := st.changes(is, since, self)
			if err != nil {
				return nil, err
			}
			out = append(out, changes...)
		}
		startAt += len(*res.Issues)
		if len(*res.Issues) == 0 || startAt >= *res.Total {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b plugins.SinkChange) int { return a.At.Compare(b.At) })
	return out, nil
}

func (s *Sink) whoami(ctx context.Context, st state) (user, error) {
	s.mu.Lock()
	self := s.self
	s.mu.Unlock()
	if self != nil {
		return *self, nil
	}
	var u user
	if err := st.cl.do(ctx, http.MethodGet, "/rest/api/2/myself", nil, nil, &u); err != nil {
		return u, fmt.Errorf("who am I: %w", err)
	}
	if u.AccountID == "" && u.Name == "" {
		return u, fmt.Errorf("who am I: %w: the reply has neither accountId nor name", ErrMalformedReply)
	}
	s.mu.Lock()
	s.self = &u
	s.mu.Unlock()
	return u, nil
}

// changes lists the status changes of one issue made after since by
// someone other than self.
func (st state) changes(is issue, since time.Time, self user) ([]plugins.SinkChange, error) {
	var ticket string
	for _, l := range is.Fields.Labels {
		if id, ok := strings.CutPrefix(l, st.cfg.LabelPrefix); ok && id != "" {
			ticket = id
			break
		}
	}
	if ticket == "" || is.Changelog == nil {
		// Not one of ours (someone added the label by hand), or the
		// server ignored expand=changelog: nothing to apply.
		return nil, nil
	}
	var out []plugins.SinkChange
	for _, h := range is.Changelog.Histories {
		at, err := parseTime(h.Created)
		if err != nil {
			return nil, fmt.Errorf("issue %s history %s: %w: created %q: %v", is.Key, h.ID, ErrMalformedReply, h.Created, err)
		}
		if !at.After(since) || h.Author.same(self) {
			continue
		}
		for _, it := range h.Items {
			if it.Field != "status" {
				continue
			}
			actor := cmpOr(h.Author.DisplayName, cmpOr(h.Author.Name, h.Author.AccountID))
			ch := plugins.SinkChange{TicketID: ticket, ExternalID: is.Key, Actor: actor, At: at}
			if state, ok := lookupFold(st.cfg.PullStates, it.ToString); ok {
				ch.State = state
				ch.Note = fmt.Sprintf("Jira %s: %s moved it from %s to %s", is.Key, actor, it.FromString, it.ToString)
			} else {
				ch.Note = fmt.Sprintf("Jira %s: %s moved it from %s to %s (no nocagent state for that status)", is.Key, actor, it.FromString, it.ToString)
			}
			out = append(out, ch)
		}
	}
	return out, nil
}

func lookupFold(m map[string]string, k string) (string, bool) {
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v, true
		}
	}
	return "", false
}

var _ plugins.TicketSink = (*Sink)(nil)
