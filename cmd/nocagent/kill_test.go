//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nocagent/nocagent/collector/snmpsim"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/sqlite"
)

// stormInterval is the poll interval of the kill test: short, so that a
// storm opens dozens of tickets within seconds.
const stormInterval = 500 * time.Millisecond

// Bench switches added to the demo network for a bigger storm, in three
// groups: cut off behind acme-dist-2 (which goes down too: they become
// impacted devices of its ticket), down on their own behind acme-core-1
// (a ticket each), and healthy behind globex-edge-1.
const (
	benchBehindDist = 15
	benchOwnOutage  = 15
	benchHealthy    = 10
	benchSwitches   = benchBehindDist + benchOwnOutage + benchHealthy
)

// TestKillDuringStorm kills the agent process with SIGKILL during an alert
// storm, three times — as the first tickets open, while the restarted agent
// opens the rest, and while the cleared faults resolve them — restarting it
// each time on the same data directory. Then it checks that no ticket,
// timeline event or notice was lost or duplicated: one ticket per (device,
// category) for faults that lasted across the crashes, gapless timelines
// with one opened event each, and every notifying event delivered to the
// webhook receiver, re-sent at most with the same Idempotency-Key and a
// byte-identical payload (at-least-once delivery).
func TestKillDuringStorm(t *testing.T) {
	bin := buildNocagent(t)

	sim := snmpsim.New(snmpsim.Options{})
	t.Cleanup(func() { sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	demo, err := sim.AddDemoNetwork(ctx, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	bench, err := sim.AddBenchSwitches(ctx, benchSwitches, func(int) string { return "127.0.0.1:0" })
	if err != nil {
		t.Fatal(err)
	}
	// A receiver a little slower than the agent's dispatcher keeps notices
	// queued and in flight when the kills come.
	recv := &noticeRecorder{delay: 40 * time.Millisecond}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := writeStormConfig(t, dir, dataDir, demo, bench, hook.URL)
	nDevices := len(demo) + len(bench)
	var kills []string
	killWhen := func(p *nocagentProc, what string, cond func([]ticketing.Ticket) bool) {
		t.Helper()
		var ts []ticketing.Ticket
		waitUntil(t, 15*time.Second, what, func() bool { ts = p.tickets(t); return cond(ts) })
		backlog, notices, open := p.backlog(t), recv.count(), 0
		for _, tk := range ts {
			if tk.State.Open() {
				open++
			}
		}
		p.kill(t)
		kills = append(kills, fmt.Sprintf("%s: %d tickets (%d open), %d notices received, %d queued", what, len(ts), open, notices, backlog))
	}
	isBench := func(tk ticketing.Ticket) bool { return strings.HasPrefix(tk.Device.Name, "bench-sw-") }

	// First run: a healthy network, every device polled and answering.
	p := startNocagent(t, bin, cfgPath, dataDir)
	p.waitDevices(t, 15*time.Second, nDevices, true)
	if got := p.tickets(t); len(got) != 0 {
		t.Fatalf("healthy network has %d tickets: %+v", len(got), got)
	}

	// The storm, all at once. Kill 1 as soon as the first tickets exist:
	// outages wait one poll interval to settle, so most of the storm is
	// still to come.
	faulted, want := injectStorm(t, sim, demo, bench)
	killWhen(p, "the first storm tickets", func(ts []ticketing.Ticket) bool { return len(ts) > 0 })

	// Kill 2 as soon as the restarted agent opens the first outage ticket
	// of a bench switch: they open in a burst once the outages settle, and
	// their notices queue behind the slow receiver.
	p = startNocagent(t, bin, cfgPath, dataDir)
	killWhen(p, "the first bench switch outage ticket", func(ts []ticketing.Ticket) bool { return slices.ContainsFunc(ts, isBench) })

	p = startNocagent(t, bin, cfgPath, dataDir)
	p.waitDevices(t, 15*time.Second, nDevices, false)
	waitUntil(t, 15*time.Second, "a ticket for every fault", func() bool {
		have := map[string]bool{}
		for _, tk := range p.tickets(t) {
			have[tk.DedupKey] = true
		}
		for _, k := range want {
			if !have[k] {
				return false
			}
		}
		return true
	})
	// A few more poll cycles with the storm still on: the restarted rule
	// engine and correlator see every fault again and must attach to the
	// open tickets, not open new ones.
	time.Sleep(4 * stormInterval)
	storm := len(p.tickets(t))

	// The faults clear; kill 3 as soon as the first ticket resolves.
	for _, name := range faulted {
		if err := sim.ClearFaults(name); err != nil {
			t.Fatal(err)
		}
	}
	killWhen(p, "the first resolution", func(ts []ticketing.Ticket) bool {
		for _, tk := range ts {
			if tk.State == ticketing.StateResolved {
				return true
			}
		}
		return false
	})
	p = startNocagent(t, bin, cfgPath, dataDir)
	// Every fault is gone: every ticket must resolve, including those whose
	// fault cleared while the agent was dead or just before it died.
	// Bounded: what is still open at the end is reported below.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (len(p.openTickets(t)) > 0 || p.backlog(t) != 0) {
		time.Sleep(50 * time.Millisecond)
	}
	p.stop(t)

	// The data directory is the ground truth now that the agent is gone.
	tickets, backlog := readStore(t, filepath.Join(dataDir, "nocagent.db"))
	if backlog != 0 {
		t.Errorf("outbox backlog after a graceful stop = %d, want 0", backlog)
	}
	// The recovery itself may show a real fault for a moment — a device
	// back before the far end of its link, say — and monitoring rightly
	// opens a ticket for it. Such a ticket must carry the evidence of what
	// was seen and be resolved again by the end (checkTickets holds every
	// ticket to that); anything else is a spurious ticket.
	byID := slices.Clone(tickets)
	slices.SortFunc(byID, func(a, b ticketing.Ticket) int { return strings.Compare(a.ID, b.ID) })
	for _, tk := range byID[min(storm, len(byID)):] {
		if len(tk.Evidence) == 0 || tk.Source != ticketing.SourceMonitoring {
			t.Errorf("ticket %s opened while faults cleared without monitoring evidence: %+v", tk.ID, tk)
			continue
		}
		t.Logf("ticket %s opened during recovery: %s %s (%s)", tk.ID, tk.DedupKey, tk.Evidence[0].Rule, tk.Evidence[0].Summary)
	}
	checkTickets(t, tickets, want)
	resends := checkNotices(t, tickets, recv.all())

	events := 0
	for _, tk := range tickets {
		events += len(tk.Timeline)
	}
	for i, k := range kills {
		t.Logf("SIGKILL %d at %s", i+1, k)
	}
	t.Logf("%d tickets, %d timeline events, %d notices received, %d of them re-sent after a crash",
		len(tickets), events, recv.count(), resends)
}

// buildNocagent builds the real binary: SIGKILL has to hit a separate
// process.
func buildNocagent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nocagent")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot build the nocagent binary for the kill test: %v\n%s", err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

// writeStormConfig writes the inventory of the simulated devices and a rule
// file whose CPU rule fires on the first poll (the default cpu_high waits
// 2 minutes), and returns the config's path.
func writeStormConfig(t *testing.T, dir, dataDir string, demo, bench []snmpsim.DeviceInfo, hookURL string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `agent:
  listen: 127.0.0.1:0
  poll_interval: %s
  poll_timeout: 150ms
  retries: 1
  workers: 64
  data_dir: %q
credentials:
  - name: sim-v2c
    version: 2c
    community: public
customers:
  - {id: acme, name: ACME Manufacturing, tier: gold, contract: ACME-2026-001}
  - {id: globex, name: Globex Retail, tier: silver, contract: GLX-2026-007}
  - {id: bench, name: Bench Lab, tier: bronze, contract: BENCH-1}
sites:
  - {id: acme-hq, name: ACME headquarters, customer: acme}
  - {id: globex-branch, name: Globex branch 12, customer: globex}
  - {id: bench-lab, name: Bench lab, customer: bench}
rules: [storm-rules.yaml]
notifiers:
  - name: recorder
    kind: webhook
    url: %q
devices:
`, stormInterval, dataDir, hookURL)
	where := map[string]snmpsim.DemoDevice{}
	for _, d := range snmpsim.DemoNetwork() {
		where[d.Name] = d
	}
	device := func(d snmpsim.DeviceInfo, customer, site string, upstream []string) {
		fmt.Fprintf(&b, "  - name: %s\n    address: 127.0.0.1:%d\n    credential: sim-v2c\n    customer: %s\n    site: %s\n    role: %s\n",
			d.Name, d.Port, customer, site, d.Role)
		if len(upstream) > 0 {
			fmt.Fprintf(&b, "    upstream: [%s]\n", strings.Join(upstream, ", "))
		}
	}
	for _, d := range demo {
		device(d, where[d.Name].Customer, where[d.Name].Site, d.Upstream)
	}
	for i, d := range bench {
		device(d, "bench", "bench-lab", []string{benchUpstream(i)})
	}
	const rulesFile = `groups:
  - name: storm
    rules:
      - name: storm_cpu_high
        scope: cpu
        condition: "cpu.percent > threshold"
        clear: "cpu.percent < threshold - 10"
        threshold: 95
        for: 0s
        severity: major
        category: performance
        summary: "{{.Device}} CPU {{.Instance}} at {{printf \"%.0f\" .Value}}%"
`
	if err := os.WriteFile(filepath.Join(dir, "storm-rules.yaml"), []byte(rulesFile), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nocagent.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func benchUpstream(i int) string {
	switch {
	case i < benchBehindDist:
		return "acme-dist-2"
	case i < benchBehindDist+benchOwnOutage:
		return "acme-core-1"
	}
	return "globex-edge-1"
}

// injectStorm breaks many devices at once and returns the faulted devices
// and the dedup keys that must end up with a ticket.
func injectStorm(t *testing.T, sim *snmpsim.Simulator, demo, bench []snmpsim.DeviceInfo) (faulted, want []string) {
	t.Helper()
	inject := func(name string, f snmpsim.Fault) {
		t.Helper()
		if err := sim.InjectFault(name, f); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(faulted, name) {
			faulted = append(faulted, name)
		}
	}
	for _, d := range demo {
		switch {
		case d.Role == "access":
			inject(d.Name, snmpsim.Fault{Kind: snmpsim.FaultLinkDown, IfIndex: d.UplinkIfIndex})
			want = append(want, ticketing.DedupKey(d.Name, "link"))
		case d.Role == "firewall":
			inject(d.Name, snmpsim.Fault{Kind: snmpsim.FaultCPU, Percent: 97})
		case d.Name == "acme-dist-2":
			inject(d.Name, snmpsim.Fault{Kind: snmpsim.FaultDown})
			want = append(want, ticketing.DedupKey(d.Name, "availability"))
		}
	}
	if !slices.Contains(want, ticketing.DedupKey("acme-dist-2", "availability")) {
		t.Fatal("the demo network has no acme-dist-2")
	}
	want = append(want, ticketing.DedupKey("acme-fw-1", "performance"))
	for i, d := range bench {
		if i >= benchBehindDist+benchOwnOutage {
			break
		}
		inject(d.Name, snmpsim.Fault{Kind: snmpsim.FaultDown})
		if i >= benchBehindDist {
			want = append(want, ticketing.DedupKey(d.Name, "availability"))
		}
	}
	return faulted, want
}

// nocagentProc is one `nocagent run` process.
type nocagentProc struct {
	cmd   *exec.Cmd
	log   *syncBuffer
	done  chan error
	addr  string
	token string
}

func startNocagent(t *testing.T, bin, cfgPath, dataDir string) *nocagentProc {
	t.Helper()
	p := &nocagentProc{log: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "run", "--config", cfgPath, "--log-format", "json")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("nocagent (pid %d) log tail:\n%s", p.cmd.Process.Pid, p.log.tail(2000))
		}
	})
	waitUntil(t, 10*time.Second, "nocagent to listen", func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("nocagent exited before listening: %v\n%s", err, p.log.tail(4000))
		default:
		}
		p.addr = p.log.listenAddr()
		return p.addr != ""
	})
	waitUntil(t, 5*time.Second, "/healthz", func() bool {
		code, _ := p.get(t, "/healthz", "")
		return code == http.StatusOK
	})
	b, err := os.ReadFile(filepath.Join(dataDir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	var toks map[string]string
	if err := json.Unmarshal(b, &toks); err != nil || toks["admin"] == "" {
		t.Fatalf("tokens.json has no admin token: %v", err)
	}
	p.token = toks["admin"]
	return p
}

// kill sends SIGKILL: no deferred code, no store close, no outbox flush.
func (p *nocagentProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("nocagent did not die of SIGKILL: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nocagent still running 10s after SIGKILL")
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *nocagentProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("nocagent after SIGTERM: %v\n%s", err, p.log.tail(4000))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("nocagent did not stop within 15s of SIGTERM")
	}
}

var apiClient = &http.Client{Timeout: 3 * time.Second}

func (p *nocagentProc) get(t *testing.T, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func (p *nocagentProc) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, body := p.get(t, path, p.token)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// waitDevices waits until every device was polled (and answered, if
// reachable is set).
func (p *nocagentProc) waitDevices(t *testing.T, limit time.Duration, n int, reachable bool) {
	t.Helper()
	waitUntil(t, limit, fmt.Sprintf("all %d devices polled", n), func() bool {
		var devs []struct {
			Name      string `json:"name"`
			Polled    bool   `json:"polled"`
			Reachable bool   `json:"reachable"`
		}
		p.getJSON(t, "/api/v1/devices", &devs)
		for _, d := range devs {
			if !d.Polled || reachable && !d.Reachable {
				return false
			}
		}
		return len(devs) == n
	})
}

func (p *nocagentProc) tickets(t *testing.T) []ticketing.Ticket {
	t.Helper()
	var l struct {
		Tickets []ticketing.Ticket `json:"tickets"`
	}
	p.getJSON(t, "/api/v1/tickets?limit=1000", &l)
	return l.Tickets
}

func (p *nocagentProc) openTickets(t *testing.T) []ticketing.Ticket {
	t.Helper()
	var l struct {
		Tickets []ticketing.Ticket `json:"tickets"`
	}
	p.getJSON(t, "/api/v1/tickets?open=true&limit=1000", &l)
	return l.Tickets
}

// backlog reads nocagent_notification_backlog from /metrics; -1 when absent.
func (p *nocagentProc) backlog(t *testing.T) int {
	t.Helper()
	code, body := p.get(t, "/metrics", "")
	if code != http.StatusOK {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "nocagent_notification_backlog "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return -1
			}
			return int(n)
		}
	}
	return -1
}

// readStore opens the agent's SQLite store after it stopped.
func readStore(t *testing.T, path string) ([]ticketing.Ticket, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tickets, err := st.ListTickets(ctx, ticketing.Filter{Limit: ticketing.MaxListLimit, WithTimeline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(tickets) == ticketing.MaxListLimit {
		t.Fatalf("%d tickets: the storm is bigger than one page", len(tickets))
	}
	backlog, err := st.OutboxBacklog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tickets, backlog
}

// checkTickets: gapless timelines opened once, never two open tickets for
// one (device, category), exactly one ticket for each fault that lasted
// across the crash.
func checkTickets(t *testing.T, tickets []ticketing.Ticket, want []string) {
	t.Helper()
	ids := map[string]bool{}
	byKey := map[string][]ticketing.Ticket{}
	var stillOpen []string
	for _, tk := range tickets {
		if ids[tk.ID] {
			t.Errorf("ticket id %s stored twice", tk.ID)
		}
		ids[tk.ID] = true
		byKey[tk.DedupKey] = append(byKey[tk.DedupKey], tk)
		opened := 0
		for i, ev := range tk.Timeline {
			if ev.Seq != i+1 {
				t.Errorf("%s (%s): timeline event %d has seq %d, want %d (gap or duplicate)", tk.ID, tk.DedupKey, i, ev.Seq, i+1)
			}
			if ev.Kind == ticketing.KindOpened {
				opened++
			}
		}
		if len(tk.Timeline) == 0 || tk.Timeline[0].Kind != ticketing.KindOpened || opened != 1 {
			t.Errorf("%s (%s): want exactly one opened event, first; timeline %s", tk.ID, tk.DedupKey, kinds(tk.Timeline))
		}
		if tk.State.Open() {
			stillOpen = append(stillOpen, fmt.Sprintf("%s %s %s %s", tk.ID, tk.DedupKey, tk.State, kinds(tk.Timeline)))
		}
	}
	if len(stillOpen) > 0 {
		sort.Strings(stillOpen)
		t.Errorf("%d of %d tickets still open after every fault cleared: their resolution was lost across the restart:\n  %s",
			len(stillOpen), len(tickets), strings.Join(stillOpen, "\n  "))
	}
	for key, ts := range byKey {
		if overlap := openOverlap(ts); overlap != "" {
			t.Errorf("two open tickets for %s at once: %s", key, overlap)
		}
	}
	for _, key := range want {
		switch ts := byKey[key]; len(ts) {
		case 0:
			t.Errorf("no ticket for %s: the fault lasted across the crash and was lost", key)
		case 1:
		default:
			var desc []string
			for _, tk := range ts {
				desc = append(desc, tk.ID+" "+kinds(tk.Timeline))
			}
			t.Errorf("%d tickets for %s, one continuous fault: %s", len(ts), key, strings.Join(desc, "; "))
		}
	}
}

// openOverlap replays the tickets' timelines and describes the first moment
// two of them were open at once ("" if never).
func openOverlap(ts []ticketing.Ticket) string {
	type edge struct {
		at   time.Time
		seq  int // orders the same ticket's events at one instant
		id   string
		open bool
	}
	var edges []edge
	for _, tk := range ts {
		for _, ev := range tk.Timeline {
			switch ev.Kind {
			case ticketing.KindOpened, ticketing.KindReopened:
				edges = append(edges, edge{ev.At, ev.Seq, tk.ID, true})
			case ticketing.KindResolved, ticketing.KindClosed, ticketing.KindCancelled:
				edges = append(edges, edge{ev.At, ev.Seq, tk.ID, false})
			}
		}
	}
	// Closings before openings at the same instant: a ticket resolved and
	// the next one opened in the same millisecond do not overlap.
	sort.SliceStable(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return !edges[i].open && edges[j].open
	})
	open := map[string]bool{}
	for _, e := range edges {
		if !e.open {
			delete(open, e.id)
			continue
		}
		open[e.id] = true
		if len(open) > 1 {
			ids := make([]string, 0, len(open))
			for id := range open {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			return fmt.Sprintf("%s at %s", strings.Join(ids, " and "), e.at.Format(time.RFC3339Nano))
		}
	}
	return ""
}

func kinds(evs []ticketing.Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = fmt.Sprintf("%d:%s", ev.Seq, ev.Kind)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// checkNotices compares what the receiver got with the stored timelines:
// every notifying event delivered, nothing for an event that does not exist,
// a key received twice only as a byte-identical re-send. It returns the
// number of re-sends.
func checkNotices(t *testing.T, tickets []ticketing.Ticket, got []receivedNotice) int {
	t.Helper()
	events := map[string]ticketing.Event{}
	var notifying []string
	for _, tk := range tickets {
		for _, ev := range tk.Timeline {
			id := ticketing.EventID(tk.ID, ev.Seq)
			events[id] = ev
			if ev.Kind.Notifies() {
				notifying = append(notifying, id)
			}
		}
	}
	byKey := map[string][]receivedNotice{}
	for _, n := range got {
		byKey[n.key] = append(byKey[n.key], n)
	}
	resends := 0
	for key, ns := range byKey {
		first := ns[0]
		ev, ok := events[key]
		switch {
		case key == "":
			t.Errorf("a notice without Idempotency-Key: %s", first.body)
			continue
		case !ok:
			t.Errorf("notice %s is for an event that does not exist: %s", key, first.body)
			continue
		case !ev.Kind.Notifies():
			t.Errorf("notice %s is for a %s event, which does not notify", key, ev.Kind)
		}
		var n ticketing.Notice
		if err := json.Unmarshal(first.body, &n); err != nil {
			t.Errorf("notice %s: %v", key, err)
			continue
		}
		if n.EventID != key || n.Event != ev.Kind || ticketing.EventID(n.Ticket.ID, ev.Seq) != key {
			t.Errorf("notice with key %s says event %s (%s) of ticket %s; the timeline has %s", key, n.EventID, n.Event, n.Ticket.ID, ev.Kind)
		}
		for _, again := range ns[1:] {
			if !bytes.Equal(again.body, first.body) {
				t.Errorf("notice %s received %d times with different payloads:\n%s\n%s", key, len(ns), first.body, again.body)
			}
			resends++
		}
	}
	for _, id := range notifying {
		if len(byKey[id]) == 0 {
			t.Errorf("event %s (%s) notifies but the receiver never got it", id, events[id].Kind)
		}
	}
	return resends
}

// noticeRecorder is the webhook receiver: it keeps every request's
// Idempotency-Key and body, re-sends included.
type noticeRecorder struct {
	delay   time.Duration // before answering, after recording
	mu      sync.Mutex
	notices []receivedNotice
}

type receivedNotice struct {
	key  string
	body []byte
}

func (r *noticeRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.notices = append(r.notices, receivedNotice{key: req.Header.Get("Idempotency-Key"), body: body})
	r.mu.Unlock()
	time.Sleep(r.delay)
	w.WriteHeader(http.StatusNoContent)
}

func (r *noticeRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.notices)
}

func (r *noticeRecorder) all() []receivedNotice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.notices)
}

// syncBuffer collects a process's output; exec copies into it from its own
// goroutine while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[max(0, len(s)-n):]
}

// listenAddr finds the "agent started" JSON log line and returns its listen
// address ("" until it is logged).
func (b *syncBuffer) listenAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for line := range strings.Lines(b.buf.String()) {
		var rec struct {
			Msg    string `json:"msg"`
			Listen string `json:"listen"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "agent started" {
			return rec.Listen
		}
	}
	return ""
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
