// Package jiratest is an httptest server speaking the part of Jira's REST
// API v2 that the jira ticket sink uses, for the sink's own tests and for
// tests that run the sink in a host or an agent.
package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake is an httptest server speaking the part of Jira's REST API v2
// the connector uses, with the documented JSON shapes: issue create, get
// and edit, transitions, JQL search with changelog expansion, and myself.
// Its workflow is JSM's IT incident one.
type Fake struct {
	// URL is the server's base URL, the sink's base_url.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	auth     string // the Authorization header it accepts
	now      time.Time
	nextID   int
	issues   map[string]*Issue // by key
	requests []string          // "METHOD path?query"
	bodies   []map[string]any  // bodies of POST/PUT, in order
	// faults are answered instead of the real thing, in order, to
	// requests whose "METHOD path" matches the key.
	faults   map[string][]Fault
	pageSize int // server-side cap on maxResults
}

// Fault is an answer the fake gives instead of the real one.
type Fault struct {
	Status int
	Header map[string]string
	Body   string
}

// Issue is the fake's view of one issue.
type Issue struct {
	ID, Key, Summary, Description, Priority, Status string
	Labels                                          []string
	Updated                                         time.Time
	histories                                       []map[string]any
}

// workflow: status → transitions offered (name → target status).
var workflow = map[string][][2]string{
	"Open":             {{"Start work", "Work in progress"}, {"Cancel", "Canceled"}},
	"Work in progress": {{"Pending", "Pending"}, {"Resolve", "Resolved"}, {"Cancel", "Canceled"}},
	"Pending":          {{"Resume", "Work in progress"}},
	"Resolved":         {{"Close", "Closed"}, {"Reopen", "Open"}},
	"Closed":           {},
	"Canceled":         {},
}

var statusIDs = map[string]string{"Open": "1", "Work in progress": "3", "Pending": "10002", "Resolved": "5", "Closed": "6", "Canceled": "10003"}

var priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}

var botUser = map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "nocagent bot", "active": true}

const jiraLayout = "2006-01-02T15:04:05.000-0700"

func New(t testing.TB, auth string) *Fake {
	t.Helper()
	f := &Fake{auth: auth, now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), nextID: 10000,
		issues: map[string]*Issue{}, faults: map[string][]Fault{}, pageSize: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

// Fail queues answers given, in order, to requests whose "METHOD path"
// is route (or starts with it when route ends in "*").
func (f *Fake) Fail(route string, fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[route] = append(f.faults[route], fs...)
}

func (f *Fake) tick(d time.Duration) time.Time {
	f.now = f.now.Add(d)
	return f.now
}

// Advance moves the fake's clock and returns the new time.
func (f *Fake) Advance(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tick(d)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jiraError(w http.ResponseWriter, status int, msgs []string, errs map[string]string) {
	if msgs == nil {
		msgs = []string{}
	}
	if errs == nil {
		errs = map[string]string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": msgs, "errors": errs})
}

var (
	issuePath       = regexp.MustCompile(`^/rest/api/2/issue/([A-Z][A-Z0-9_]*-[0-9]+)$`)
	transitionsPath = regexp.MustCompile(`^/rest/api/2/issue/([A-Z][A-Z0-9_]*-[0-9]+)/transitions$`)
)

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	route := r.Method + " " + r.URL.Path
	for key, fs := range f.faults {
		if len(fs) > 0 && (key == route || (strings.HasSuffix(key, "*") && strings.HasPrefix(route, strings.TrimSuffix(key, "*")))) {
			f.faults[key] = fs[1:]
			for k, v := range fs[0].Header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(fs[0].Status)
			_, _ = w.Write([]byte(fs[0].Body))
			return
		}
	}
	if r.Header.Get("Authorization") != f.auth {
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
		jiraError(w, http.StatusUnauthorized, []string{"You are not authenticated. Authentication required to perform this operation."}, nil)
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if r.Header.Get("Content-Type") != "application/json" {
			jiraError(w, http.StatusUnsupportedMediaType, []string{"Unsupported Media Type"}, nil)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			jiraError(w, http.StatusBadRequest, []string{"Unexpected character: " + err.Error()}, nil)
			return
		}
		f.bodies = append(f.bodies, body)
	}
	switch p := r.URL.Path; {
	case r.Method == http.MethodGet && p == "/rest/api/2/myself":
		writeJSON(w, http.StatusOK, botUser)
	case r.Method == http.MethodPost && p == "/rest/api/2/issue":
		f.create(w, body)
	case r.Method == http.MethodGet && p == "/rest/api/2/search":
		f.search(w, r)
	case transitionsPath.MatchString(p):
		is := f.issues[transitionsPath.FindStringSubmatch(p)[1]]
		if is == nil {
			jiraError(w, http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, nil)
			return
		}
		if r.Method == http.MethodGet {
			var trs []map[string]any
			for i, tr := range workflow[is.Status] {
				trs = append(trs, map[string]any{"id": strconv.Itoa(11 + 10*i), "name": tr[0], "hasScreen": false,
					"to": map[string]any{"id": statusIDs[tr[1]], "name": tr[1], "statusCategory": map[string]any{"key": "indeterminate"}}})
			}
			writeJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": trs})
			return
		}
		id, _ := body["transition"].(map[string]any)["id"].(string)
		for i, tr := range workflow[is.Status] {
			if strconv.Itoa(11+10*i) == id {
				f.move(is, tr[1], botUser)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		jiraError(w, http.StatusBadRequest, []string{fmt.Sprintf("Transition id '%s' is not valid for this issue.", id)}, nil)
	case issuePath.MatchString(p):
		is := f.issues[issuePath.FindStringSubmatch(p)[1]]
		if is == nil {
			jiraError(w, http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, nil)
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, f.issueJSON(is, false))
		case http.MethodPut:
			fields, _ := body["fields"].(map[string]any)
			if errs := f.checkFields(fields, false); len(errs) > 0 {
				jiraError(w, http.StatusBadRequest, nil, errs)
				return
			}
			f.apply(is, fields)
			is.Updated = f.tick(time.Second)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	default:
		jiraError(w, http.StatusNotFound, []string{"null for uri: " + r.URL.String()}, nil)
	}
}

func (f *Fake) checkFields(fields map[string]any, create bool) map[string]string {
	errs := map[string]string{}
	if fields == nil {
		return map[string]string{"fields": "fields is required"}
	}
	if create {
		if pk, _ := fields["project"].(map[string]any)["key"].(string); pk != "NOC" {
			errs["project"] = "valid project is required"
		}
		if it, _ := fields["issuetype"].(map[string]any)["name"].(string); it != "Incident" {
			errs["issuetype"] = "The issue type selected is invalid."
		}
		if s, _ := fields["summary"].(string); s == "" {
			errs["summary"] = "You must specify a summary of the issue."
		}
	}
	if s, ok := fields["summary"].(string); ok && len([]rune(s)) > 255 {
		errs["summary"] = "Summary must be less than 255 characters."
	}
	if p, ok := fields["priority"]; ok {
		name, _ := p.(map[string]any)["name"].(string)
		if !slices.Contains(priorities, name) {
			errs["priority"] = fmt.Sprintf("Specify the Priority (name) in the proper format (%s is not valid)", name)
		}
	}
	return errs
}

func (f *Fake) apply(is *Issue, fields map[string]any) {
	if s, ok := fields["summary"].(string); ok {
		is.Summary = s
	}
	if s, ok := fields["description"].(string); ok {
		is.Description = s
	}
	if p, ok := fields["priority"].(map[string]any); ok {
		is.Priority, _ = p["name"].(string)
	}
	if ls, ok := fields["labels"].([]any); ok {
		is.Labels = nil
		for _, l := range ls {
			is.Labels = append(is.Labels, l.(string))
		}
	}
}

func (f *Fake) create(w http.ResponseWriter, body map[string]any) {
	fields, _ := body["fields"].(map[string]any)
	if errs := f.checkFields(fields, true); len(errs) > 0 {
		jiraError(w, http.StatusBadRequest, nil, errs)
		return
	}
	f.nextID++
	is := &Issue{ID: strconv.Itoa(f.nextID), Key: fmt.Sprintf("NOC-%d", f.nextID-10000), Status: "Open", Updated: f.tick(time.Second)}
	f.apply(is, fields)
	f.issues[is.Key] = is
	writeJSON(w, http.StatusCreated, map[string]any{"id": is.ID, "key": is.Key, "self": f.srv.URL + "/rest/api/2/issue/" + is.ID})
}

// move changes an issue's status as author, recording it in the changelog.
func (f *Fake) move(is *Issue, to string, author map[string]any) {
	at := f.tick(time.Minute)
	is.histories = append(is.histories, map[string]any{
		"id": strconv.Itoa(20000 + len(is.histories)), "author": author, "created": at.Format(jiraLayout),
		"items": []map[string]any{{"field": "status", "fieldtype": "jira", "from": statusIDs[is.Status], "fromString": is.Status, "to": statusIDs[to], "toString": to}},
	})
	is.Status, is.Updated = to, at
}

// HumanMove is a person changing the status in Jira's UI; it returns
// when, on the fake's clock.
func (f *Fake) HumanMove(key, to string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.issues[key]
	f.move(is, to, map[string]any{"accountId": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "displayName": "Li Wei", "active": true})
	return is.Updated
}

func (f *Fake) issueJSON(is *Issue, changelog bool) map[string]any {
	out := map[string]any{"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id": is.ID, "key": is.Key, "self": f.srv.URL + "/rest/api/2/issue/" + is.ID,
		"fields": map[string]any{
			"status":  map[string]any{"id": statusIDs[is.Status], "name": is.Status, "statusCategory": map[string]any{"key": "new"}},
			"labels":  is.Labels,
			"updated": is.Updated.Format(jiraLayout),
		}}
	if changelog {
		out["changelog"] = map[string]any{"startAt": 0, "maxResults": len(is.histories), "total": len(is.histories), "histories": is.histories}
	}
	return out
}

// The JQL this fake understands: the clauses the connector writes.
var (
	jqlProject = regexp.MustCompile(`^project = "([A-Z0-9_]+)"`)
	jqlLabel   = regexp.MustCompile(`labels = "([^"]+)"`)
	jqlUpdated = regexp.MustCompile(`updated >= "(\d{4}/\d{2}/\d{2} \d{2}:\d{2})"`)
	jqlClause  = regexp.MustCompile(`^project = "[A-Z0-9_]+" AND labels = "[^"]+"( AND updated >= "[^"]+")?( ORDER BY updated ASC)?$`)
)

func (f *Fake) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	jql := q.Get("jql")
	if !jqlClause.MatchString(jql) {
		jiraError(w, http.StatusBadRequest, []string{"Error in the JQL Query: The fake cannot parse " + strconv.Quote(jql)}, nil)
		return
	}
	project := jqlProject.FindStringSubmatch(jql)[1]
	label := jqlLabel.FindStringSubmatch(jql)[1]
	var since time.Time
	if m := jqlUpdated.FindStringSubmatch(jql); m != nil {
		var err error
		// The API user's time zone in this fake is UTC.
		if since, err = time.Parse("2006/01/02 15:04", m[1]); err != nil {
			jiraError(w, http.StatusBadRequest, []string{"Date value '" + m[1] + "' for field 'updated' is invalid."}, nil)
			return
		}
	}
	var hits []*Issue
	for _, is := range f.issues {
		if strings.HasPrefix(is.Key, project+"-") && slices.Contains(is.Labels, label) && !is.Updated.Before(since) {
			hits = append(hits, is)
		}
	}
	slices.SortFunc(hits, func(a, b *Issue) int { return a.Updated.Compare(b.Updated) })
	startAt, _ := strconv.Atoi(q.Get("startAt"))
	maxResults, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || maxResults > f.pageSize {
		maxResults = f.pageSize
	}
	page := []map[string]any{}
	for i := startAt; i < len(hits) && len(page) < maxResults; i++ {
		page = append(page, f.issueJSON(hits[i], q.Get("expand") == "changelog"))
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "names,schema", "startAt": startAt, "maxResults": maxResults, "total": len(hits), "issues": page})
}

// Requests returns the requests so far ("METHOD path?query") and the
// bodies of the POSTs and PUTs.
func (f *Fake) Requests() (reqs []string, bodies []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests), slices.Clone(f.bodies)
}

// Issue returns a copy of the issue with that key (zero if none).
func (f *Fake) Issue(key string) Issue {
	f.mu.Lock()
	defer f.mu.Unlock()
	if is := f.issues[key]; is != nil {
		return *is
	}
	return Issue{}
}

// SetAuth sets the Authorization header the fake accepts.
func (f *Fake) SetAuth(header string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = header
}

// SetPageSize caps maxResults of a search, to make a client page.
func (f *Fake) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}
