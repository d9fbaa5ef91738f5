package ticketing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultReopenWindow is how long after monitoring resolved a ticket the same
// fault returning reopens it instead of opening a new one.
const DefaultReopenWindow = time.Hour

// Options configure a Service. Zero values take the documented defaults.
type Options struct {
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default slog.Default()
	// ReopenWindow defaults to DefaultReopenWindow; negative disables reopening.
	ReopenWindow time.Duration
	// Channels are the notification channels (e.g. "webhook") every
	// notifying event is queued for; a Dispatcher needs a Sender for each.
	Channels []string
	// IDPrefix starts every human ticket id; default "NOC".
	IDPrefix string
	// Process is the service-process configuration (SLA, escalation,
	// engineers, survey, problems); its zero value is the documented defaults.
	Process ProcessConfig
	// Devices, if set, looks up a device's context by name for manual
	// tickets, so they carry the same serial, site and contract as auto ones.
	Devices func(name string) (DeviceContext, bool)
	// Customers, if set, says whether a customer exists and its contract:
	// a manual ticket names a known customer and only that customer's
	// contract, so nobody files under another contract's KPIs.
	Customers func(id string) (contract string, ok bool)
	// Categories, if set, is the closed list a manual ticket's category
	// comes from; every category also feeds a metric label.
	Categories []string
	// ConfirmSecret signs customer confirmation links (HMAC-SHA256); empty
	// disables them. Keep it secret and stable: changing it invalidates
	// every link sent.
	ConfirmSecret []byte
	// ConfirmTTL is how long a confirmation link is valid; default
	// DefaultConfirmTTL.
	ConfirmTTL time.Duration
}

// Service runs the ticket lifecycle on top of a Store.
type Service struct {
	store      Store
	now        func() time.Time
	log        *slog.Logger
	window     time.Duration
	chans      []string
	prefix     string
	proc       atomic.Pointer[process] // replaced by SetProcess on a reload
	devices    func(name string) (DeviceContext, bool)
	customers  func(id string) (string, bool)
	categories []string

	confirmSecret []byte
	confirmTTL    time.Duration
}

// process is the service process in force.
func (s *Service) process() *process { return s.proc.Load() }

// SetProcess puts a new service process in force, as on a reload: SLA
// targets, calendars, escalation, engineers and managers. Tickets keep
// their clocks; what they are measured against changes. An invalid
// configuration changes nothing.
func (s *Service) SetProcess(c ProcessConfig) error {
	proc, err := c.compile()
	if err != nil {
		return err
	}
	s.proc.Store(proc)
	return nil
}

// NewService returns a Service storing tickets in store. It panics if
// opts.Process is invalid: use New for configuration that users wrote.
func NewService(store Store, opts Options) *Service {
	s, err := New(store, opts)
	if err != nil {
		panic(err)
	}
	return s
}

// New returns a Service storing tickets in store, or an error naming every
// invalid field of opts.Process.
func New(store Store, opts Options) (*Service, error) {
	proc, err := opts.Process.compile()
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:   store,
		now:     opts.Now,
		log:     opts.Logger,
		window:  opts.ReopenWindow,
		chans:   append([]string(nil), opts.Channels...),
		prefix:  opts.IDPrefix,
		devices: opts.Devices, customers: opts.Customers, categories: opts.Categories,

		confirmSecret: append([]byte(nil), opts.ConfirmSecret...),
		confirmTTL:    opts.ConfirmTTL,
	}
	s.proc.Store(proc)
	if s.confirmTTL <= 0 {
		s.confirmTTL = DefaultConfirmTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.window == 0 {
		s.window = DefaultReopenWindow
	}
	if s.prefix == "" {
		s.prefix = "NOC"
	}
	return s, nil
}

// IngestAction says what Ingest did with a signal.
type IngestAction string

// Ingest actions.
const (
	ActionOpened         IngestAction = "opened"          // a new ticket
	ActionReopened       IngestAction = "reopened"        // the fault returned within the reopen window
	ActionSymptomAdded   IngestAction = "symptom_added"   // attached to the open ticket
	ActionDuplicate      IngestAction = "duplicate"       // already attached and firing: nothing changed
	ActionSymptomCleared IngestAction = "symptom_cleared" // one symptom cleared, others still firing
	ActionResolved       IngestAction = "resolved"        // the last firing symptom cleared
	ActionIgnored        IngestAction = "ignored"         // a clear for nothing firing: nothing changed
	// ActionImpactAdded: the fault was already attached, and the signal
	// brought impacted devices the ticket did not list (it may have
	// recovered others too).
	ActionImpactAdded IngestAction = "impact_added"
	// ActionImpactRecovered: only impacted devices recovered.
	ActionImpactRecovered IngestAction = "impact_recovered"
)

// IngestResult is the decision Ingest took, with its reason, for logs and tests.
type IngestResult struct {
	Action         IngestAction
	PriorityRaised bool
	// ImpactAdded and ImpactRecovered count the impacted devices the
	// signal attached and marked recovered.
	ImpactAdded, ImpactRecovered int
}

// DedupKey is the key of the one-open-ticket-per-(device, category) rule.
// Categories cannot contain "/", so the key is unambiguous.
func DedupKey(device, category string) string {
	return device + "/" + category
}

// Ingest applies a monitoring signal: it opens, reopens, updates or resolves
// the auto ticket for the signal's (device, category) and returns it as
// stored. Every write, outbox messages included, happens in one transaction.
// Returns EINVALID for a malformed signal. For ActionIgnored the returned
// Ticket is empty.
func (s *Service) Ingest(ctx context.Context, sig Signal) (Ticket, IngestResult, error) {
	if err := validateSignal(sig); err != nil {
		return Ticket{}, IngestResult{}, err
	}
	key := DedupKey(sig.Device.Name, sig.Category)
	var dropped, n int
	sig.Impacted, n = cleanImpact(sig.Impacted, sig.Device.Name)
	dropped += n
	sig.Recovered, n = cleanImpact(sig.Recovered, sig.Device.Name)
	if dropped += n; dropped > 0 {
		s.log.WarnContext(ctx, "signal names impacted devices without a name or the device itself; dropped",
			"fingerprint", sig.Fingerprint, "device", sig.Device.Name, "dropped", dropped)
	}
	var (
		t   Ticket
		res IngestResult
	)
	err := s.store.WithTx(ctx, func(tx Tx) error {
		// One now per transaction, so every row it writes agrees.
		now := s.now().UTC()
		if sig.At.IsZero() {
			sig.At = now
		}
		var err error
		if sig.Firing {
			t, res, err = s.fire(ctx, tx, now, key, sig)
		} else {
			t, res, err = s.clear(ctx, tx, now, key, sig)
		}
		return err
	})
	if err != nil {
		return Ticket{}, IngestResult{}, fmt.Errorf("ingest signal %s for %s: %w", sig.Fingerprint, key, err)
	}
	if t.ID != "" {
		t = s.decorate(t, s.now().UTC())
	}
	lvl := slog.LevelInfo
	if res.Action == ActionDuplicate || res.Action == ActionIgnored {
		lvl = slog.LevelDebug
	}
	s.log.Log(ctx, lvl, "signal ingested", "ticket", t.ID, "action", res.Action,
		"priority_raised", res.PriorityRaised, "fingerprint", sig.Fingerprint,
		"device", sig.Device.Name, "category", sig.Category, "firing", sig.Firing,
		"impact_added", res.ImpactAdded, "impact_recovered", res.ImpactRecovered)
	return t, res, nil
}

func validateSignal(sig Signal) error {
	bad := func(what string, args ...any) error {
		return Errorf(EINVALID, "invalid signal %q for device %q: %s",
			sig.Fingerprint, sig.Device.Name, fmt.Sprintf(what, args...))
	}
	switch {
	case strings.TrimSpace(sig.Fingerprint) == "":
		return bad("fingerprint is empty")
	case strings.TrimSpace(sig.Device.Name) == "":
		return bad("device name is empty")
	case strings.TrimSpace(sig.Category) == "":
		return bad("category is empty")
	case strings.Contains(sig.Category, "/"):
		return bad("category %q contains '/'", sig.Category)
	case sig.Firing && !Priority(sig.Priority).Valid():
		return bad("priority %q is not one of P1..P4", sig.Priority)
	}
	return nil
}

// change collects what one ingest writes, so persisting is one place.
type change struct {
	t        *Ticket
	seq      int64 // > 0: a new ticket to create
	evidence []Evidence
	refired  []Evidence // cleared rows firing again (with their ID)
	cleared  []Evidence
	events   []Event
	// to names who a notice about event seq is for ("engineer:alice",
	// "tier:L2", "manager:bob"); events without an entry go to everyone the
	// channel reaches.
	to      map[int][]string
	article *Article
	// impact are impacted-device entries to store (added or recovered).
	impact []ImpactedDevice
}

func (c *change) event(now time.Time, actor string, kind EventKind, from, to, note string) *Event {
	ev := Event{Seq: len(c.t.Timeline) + 1, At: now, Actor: actor, Kind: kind, From: from, To: to, Note: note}
	c.t.Timeline = append(c.t.Timeline, ev)
	c.events = append(c.events, ev)
	return &c.events[len(c.events)-1]
}

// stampRole records role on the entries who made in this change.
func (c *change) stampRole(who string, role Role) {
	for i := range c.events {
		if c.events[i].Actor == who && c.events[i].Role == "" {
			c.events[i].Role = role
		}
	}
	for i := range c.t.Timeline {
		if c.t.Timeline[i].Actor == who && c.t.Timeline[i].Role == "" {
			c.t.Timeline[i].Role = role
		}
	}
}

// notify addresses the notice about the last recorded event.
func (c *change) notify(recipients ...string) {
	if len(recipients) == 0 || len(c.events) == 0 {
		return
	}
	if c.to == nil {
		c.to = map[int][]string{}
	}
	seq := c.events[len(c.events)-1].Seq
	c.to[seq] = append(c.to[seq], recipients...)
}

func (c *change) raise(now time.Time, p Priority, why string) bool {
	if !p.Higher(c.t.Priority) {
		return false
	}
	c.event(now, ActorMonitoring, KindPriorityRaised, string(c.t.Priority), string(p), why)
	c.t.Priority = p
	return true
}

func evidenceOf(sig Signal) Evidence {
	return Evidence{
		Fingerprint: sig.Fingerprint, Rule: sig.Rule, Instance: sig.Instance,
		Severity: sig.Severity, Priority: Priority(sig.Priority),
		Value: sig.Value, Threshold: sig.Threshold, Summary: sig.Summary,
		At: sig.At.UTC(), Firing: true, Fires: 1,
	}
}

// MaxEvidence bounds the distinct symptoms listed on one ticket; more are
// noted on the timeline without a row of their own.
const MaxEvidence = 200

// addSymptom stages ev on c's ticket: a cleared row of the same symptom
// fires again (counted), a new symptom gets a row while the ticket has
// fewer than MaxEvidence. It returns the note for the timeline event.
func (c *change) addSymptom(ev Evidence, summary string) string {
	for i := len(c.t.Evidence) - 1; i >= 0; i-- {
		old := c.t.Evidence[i]
		if old.Fingerprint != ev.Fingerprint || old.Firing {
			continue
		}
		ev.ID, ev.Fires = old.ID, old.Fires+1
		c.refired = append(c.refired, ev)
		return fmt.Sprintf("%s (again: %d times on this ticket)", summary, ev.Fires)
	}
	if len(c.t.Evidence)+len(c.evidence) >= MaxEvidence {
		return fmt.Sprintf("%s (not listed as evidence: this ticket already lists %d symptoms)", summary, MaxEvidence)
	}
	c.evidence = append(c.evidence, ev)
	return summary
}

func titleOf(sig Signal) string {
	if s := strings.TrimSpace(sig.Summary); s != "" {
		return s
	}
	return fmt.Sprintf("%s on %s", sig.Rule, sig.Device.Name)
}

func (s *Service) fire(ctx context.Context, tx Tx, now time.Time, key string, sig Signal) (Ticket, IngestResult, error) {
	t, ok, err := tx.OpenTicketByKey(ctx, key)
	if err != nil {
		return Ticket{}, IngestResult{}, err
	}
	ev := evidenceOf(sig)
	prio := Priority(sig.Priority)
	if ok {
		if firingEvidence(t, sig.Fingerprint) >= 0 {
			return s.impactUpdate(ctx, tx, now, t, sig)
		}
		c := &change{t: &t}
		c.event(now, ActorMonitoring, KindSymptomAdded, "", sig.Fingerprint, c.addSymptom(ev, sig.Summary))
		add, rec := stageImpact(c, now, sig)
		recordImpact(c, now, add, rec)
		raised := c.raise(now, prio, "symptom: "+sig.Summary)
		return s.persist(ctx, tx, now, c, IngestResult{Action: ActionSymptomAdded, PriorityRaised: raised,
			ImpactAdded: len(add), ImpactRecovered: len(rec)})
	}

	last, ok, err := tx.LatestTicketByKey(ctx, key)
	if err != nil {
		return Ticket{}, IngestResult{}, err
	}
	if ok && (len(sig.Impacted) > 0 || len(sig.Recovered) > 0) &&
		!last.State.Terminal() && firingEvidence(last, sig.Fingerprint) >= 0 {
		// An engineer resolved the ticket while the fault still fired: a
		// change in what it cuts off belongs on that ticket, and is no
		// reason for a second one.
		return s.impactUpdate(ctx, tx, now, last, sig)
	}
	if ok && s.reopens(last, now) {
		from := last.State
		last.State = StateNew
		last.ResolvedAt, last.ResolvedBy = nil, ""
		last.ReopenCount++
		c := &change{t: &last}
		c.addSymptom(ev, sig.Summary)
		add, rec := stageImpact(c, now, sig)
		c.event(now, ActorMonitoring, KindReopened, string(from), string(StateNew), withDevices("fault returned: "+sig.Summary, add))
		recordImpact(c, now, nil, rec)
		raised := c.raise(now, prio, "fault returned: "+sig.Summary)
		return s.persist(ctx, tx, now, c, IngestResult{Action: ActionReopened, PriorityRaised: raised,
			ImpactAdded: len(add), ImpactRecovered: len(rec)})
	}

	seq, err := tx.NextTicketSeq(ctx)
	if err != nil {
		return Ticket{}, IngestResult{}, err
	}
	t = Ticket{
		ID:          fmt.Sprintf("%s-%06d", s.prefix, seq),
		Title:       titleOf(sig),
		Priority:    prio,
		State:       StateNew,
		Category:    sig.Category,
		Source:      SourceMonitoring,
		Fingerprint: sig.Fingerprint,
		DedupKey:    key,
		Device:      sig.Device,
		OpenedAt:    now,
		Tier:        1,
	}
	c := &change{t: &t, seq: seq, evidence: []Evidence{ev}}
	// The opening event names the devices, so a storm is one notice.
	add, _ := stageImpact(c, now, Signal{Impacted: sig.Impacted, At: sig.At})
	c.event(now, ActorMonitoring, KindOpened, "", string(StateNew), withDevices(openingNote(sig), add))
	if err := s.autoAssign(ctx, tx, now, c, 1, ""); err != nil {
		return Ticket{}, IngestResult{}, err
	}
	t, res, err := s.persist(ctx, tx, now, c, IngestResult{Action: ActionOpened, ImpactAdded: len(add)})
	if err != nil {
		return Ticket{}, IngestResult{}, err
	}
	if t, err = s.linkProblem(ctx, tx, now, t); err != nil {
		return Ticket{}, IngestResult{}, err
	}
	return t, res, nil
}

// impactUpdate applies a firing signal whose fault t already carries: new
// impacted devices are an update (one impact_added event and notice, the
// priority raised if the signal's is higher), recovered ones are noted, and
// a signal that changes nothing is a duplicate.
func (s *Service) impactUpdate(ctx context.Context, tx Tx, now time.Time, t Ticket, sig Signal) (Ticket, IngestResult, error) {
	c := &change{t: &t}
	add, rec := stageImpact(c, now, sig)
	if len(add) == 0 && len(rec) == 0 {
		return t, IngestResult{Action: ActionDuplicate}, nil
	}
	recordImpact(c, now, add, rec)
	res := IngestResult{Action: ActionImpactRecovered, ImpactAdded: len(add), ImpactRecovered: len(rec)}
	if len(add) > 0 {
		res.Action = ActionImpactAdded
		// Only an open ticket's priority still matters to anyone.
		if t.State.Open() {
			n := 0
			for _, d := range t.ImpactedDevices {
				if !d.Recovered {
					n++
				}
			}
			res.PriorityRaised = c.raise(now, Priority(sig.Priority), fmt.Sprintf("impact: %d devices cut off", n))
		}
	}
	return s.persist(ctx, tx, now, c, res)
}

// reopens decides whether a fault returning now reopens last instead of
// opening a new ticket: only a resolution by monitoring, within the window.
func (s *Service) reopens(last Ticket, now time.Time) bool {
	return s.window > 0 && (last.State == StateResolved || last.State == StateVerified) &&
		last.ResolvedBy == ActorMonitoring && last.ResolvedAt != nil &&
		now.Sub(*last.ResolvedAt) < s.window
}

func (s *Service) clear(ctx context.Context, tx Tx, now time.Time, key string, sig Signal) (Ticket, IngestResult, error) {
	t, ok, err := tx.OpenTicketByKey(ctx, key)
	if err != nil {
		return Ticket{}, IngestResult{}, err
	}
	if !ok {
		// An engineer may have resolved the ticket while the fault still
		// fired; its clearing now is what verification waits for.
		if t, ok, err = tx.LatestTicketByKey(ctx, key); err != nil {
			return Ticket{}, IngestResult{}, err
		}
		if !ok || t.State.Terminal() {
			return Ticket{}, IngestResult{Action: ActionIgnored}, nil
		}
	}
	// A clearing root explains no outage any more: only recoveries count.
	c := &change{t: &t}
	_, rec := stageImpact(c, now, Signal{Recovered: sig.Recovered, At: sig.At})
	recordImpact(c, now, nil, rec)
	i := firingEvidence(t, sig.Fingerprint)
	if i < 0 {
		if len(rec) > 0 {
			// The root recovered before these devices did.
			return s.persist(ctx, tx, now, c, IngestResult{Action: ActionImpactRecovered, ImpactRecovered: len(rec)})
		}
		return Ticket{}, IngestResult{Action: ActionIgnored}, nil
	}
	at := sig.At.UTC()
	t.Evidence[i].Firing = false
	t.Evidence[i].ClearedAt = &at
	c.cleared = []Evidence{t.Evidence[i]}
	summary := sig.Summary
	if summary == "" {
		summary = t.Evidence[i].Summary
	}
	note := fmt.Sprintf("cleared: %s at %s", summary, at.Format(time.RFC3339))
	if n := strings.TrimSpace(sig.Note); n != "" {
		note = n + "; " + note
	}
	res := IngestResult{Action: ActionSymptomCleared, ImpactRecovered: len(rec)}
	if firingEvidence(t, "") >= 0 || !t.State.Open() {
		c.event(now, ActorMonitoring, KindSymptomCleared, sig.Fingerprint, "", note)
		return s.persist(ctx, tx, now, c, res)
	}
	from := t.State
	t.State = StateResolved
	t.ResolvedAt = &now
	t.ResolvedBy = ActorMonitoring
	c.event(now, ActorMonitoring, KindResolved, string(from), string(StateResolved), note)
	res.Action = ActionResolved
	return s.persist(ctx, tx, now, c, res)
}

// firingEvidence returns the index of t's firing evidence with fingerprint
// fp (any fingerprint when fp is empty), or -1.
func firingEvidence(t Ticket, fp string) int {
	for i, e := range t.Evidence {
		if e.Firing && (fp == "" || e.Fingerprint == fp) {
			return i
		}
	}
	return -1
}

// persist writes c and queues a notice per notifying event and channel.
func (s *Service) persist(ctx context.Context, tx Tx, now time.Time, c *change, res IngestResult) (Ticket, IngestResult, error) {
	t, err := s.write(ctx, tx, now, c)
	if err != nil {
		return Ticket{}, IngestResult{}, err
	}
	return t, res, nil
}

// write stores c: the ticket row, evidence, events, a knowledge-base
// article and the notices, all in tx.
func (s *Service) write(ctx context.Context, tx Tx, now time.Time, c *change) (Ticket, error) {
	t := c.t
	t.UpdatedAt = now
	t.Escalated = t.Tier > 1
	if c.seq > 0 {
		if err := tx.CreateTicket(ctx, c.seq, *t); err != nil {
			return Ticket{}, err
		}
	} else if err := tx.UpdateTicket(ctx, *t); err != nil {
		return Ticket{}, err
	}
	for _, e := range c.cleared {
		if err := tx.ClearEvidence(ctx, t.ID, e.ID, *e.ClearedAt); err != nil {
			return Ticket{}, err
		}
	}
	for _, e := range c.refired {
		if err := tx.RefireEvidence(ctx, t.ID, e.ID, e); err != nil {
			return Ticket{}, err
		}
		for i := range t.Evidence {
			if t.Evidence[i].ID == e.ID {
				t.Evidence[i] = e
			}
		}
	}
	for _, e := range c.evidence {
		id, err := tx.AddEvidence(ctx, t.ID, e)
		if err != nil {
			return Ticket{}, err
		}
		e.ID = id
		t.Evidence = append(t.Evidence, e)
	}
	if len(c.impact) > 0 {
		if err := tx.SaveImpacted(ctx, t.ID, c.impact); err != nil {
			return Ticket{}, err
		}
	}
	*t = withImpact(*t)
	t.Service = serviceOf(*t)
	if err := tx.AppendEvents(ctx, t.ID, c.events); err != nil {
		return Ticket{}, err
	}
	if c.article != nil {
		if _, err := tx.AddArticle(ctx, *c.article); err != nil {
			return Ticket{}, err
		}
	}
	msgs, err := s.notices(*t, c.events, c.to, now)
	if err != nil {
		return Ticket{}, err
	}
	if err := tx.EnqueueOutbox(ctx, msgs); err != nil {
		return Ticket{}, err
	}
	return *t, nil
}

func (s *Service) notices(t Ticket, evs []Event, to map[int][]string, now time.Time) ([]OutboxMessage, error) {
	snapshot := t
	snapshot.Timeline = nil
	snapshot.SLA = s.process().slaStatus(t, now)
	var msgs []OutboxMessage
	for _, ev := range evs {
		if !ev.Kind.Notifies() || len(s.chans) == 0 {
			continue
		}
		id := EventID(t.ID, ev.Seq)
		n := Notice{Event: ev.Kind, EventID: id, At: ev.At, Actor: ev.Actor,
			Note: ev.Note, Recipients: to[ev.Seq], Ticket: snapshot}
		if ev.Kind == KindResolved && t.Device.Customer != "" {
			if tok, _ := s.confirmToken(t.ID, t.ReopenCount, now); tok != "" {
				n.ConfirmURL = ConfirmPathPrefix + tok
			}
		}
		payload, err := json.Marshal(n)
		if err != nil {
			return nil, fmt.Errorf("encode notice %s: %w", id, err)
		}
		for _, ch := range s.chans {
			msgs = append(msgs, OutboxMessage{
				TicketID: t.ID, EventSeq: ev.Seq, EventID: id, Kind: ev.Kind,
				Channel: ch, Payload: payload, CreatedAt: now, NextAttemptAt: now,
			})
		}
	}
	return msgs, nil
}

// Get returns the ticket with its evidence, timeline and SLA position.
// Returns EINVALID for an empty id and ENOTFOUND for an unknown one.
func (s *Service) Get(ctx context.Context, id string) (Ticket, error) {
	if strings.TrimSpace(id) == "" {
		return Ticket{}, Errorf(EINVALID, "ticket id is empty")
	}
	t, err := s.store.TicketByID(ctx, id)
	if err != nil {
		return Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return s.decorate(t, s.now().UTC()), nil
}

// GetAs is Get for an actor: a customer asking for another customer's
// ticket gets ENOTFOUND, exactly as for an id that does not exist.
func (s *Service) GetAs(ctx context.Context, a Actor, id string) (Ticket, error) {
	t, err := s.Get(ctx, id)
	if err != nil {
		return Ticket{}, err
	}
	if !Visible(a, t) {
		return Ticket{}, Errorf(ENOTFOUND, "ticket %s not found", id)
	}
	return forActor(a, t), nil
}

// forActor is t as a shows it: a customer's copy has no staff-only
// timeline entries.
func forActor(a Actor, t Ticket) Ticket {
	if a.Role != RoleCustomer || t.Timeline == nil {
		return t
	}
	tl := make([]Event, 0, len(t.Timeline))
	for _, e := range t.Timeline {
		if e.ForCustomer() {
			tl = append(tl, e)
		}
	}
	t.Timeline = tl
	return t
}

// decorate fills the fields computed at read time.
func (s *Service) decorate(t Ticket, now time.Time) Ticket {
	t.Escalated = t.Tier > 1
	t = withImpact(t)
	if len(t.Timeline) > 0 {
		t.SLA = s.process().slaStatus(t, now)
		t.Service = serviceOf(t)
	}
	return t
}

// List returns tickets matching f, newest first, with their SLA position
// but without timelines (unless f.WithTimeline). Returns EINVALID for an
// unknown state or priority or a limit out of range.
func (s *Service) List(ctx context.Context, f Filter) ([]Ticket, error) {
	switch {
	case f.State != "" && !f.State.Valid():
		return nil, Errorf(EINVALID, "unknown state %q", f.State)
	case f.Priority != "" && !f.Priority.Valid():
		return nil, Errorf(EINVALID, "unknown priority %q: want P1..P4", f.Priority)
	case f.Limit < 0 || f.Limit > MaxListLimit:
		return nil, Errorf(EINVALID, "limit %d out of range 1..%d", f.Limit, MaxListLimit)
	}
	if f.Limit == 0 {
		f.Limit = DefaultListLimit
	}
	keep := f.WithTimeline
	// The SLA is replayed from the timeline, so it is always loaded.
	f.WithTimeline = true
	ts, err := s.store.ListTickets(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	now := s.now().UTC()
	for i := range ts {
		ts[i] = s.decorate(ts[i], now)
		if !keep {
			ts[i].Timeline = nil
		}
	}
	return ts, nil
}

// ListAs is List for an actor: a customer's list is always limited to the
// tickets that affect it (see Visible), whatever the filter asks.
func (s *Service) ListAs(ctx context.Context, a Actor, f Filter) ([]Ticket, error) {
	if a.Role == RoleCustomer {
		if (f.Customer != "" && f.Customer != a.Customer) || (f.Affecting != "" && f.Affecting != a.Customer) {
			return []Ticket{}, nil
		}
		f.Customer, f.Affecting = "", a.Customer
	}
	ts, err := s.List(ctx, f)
	for i := range ts {
		ts[i] = forActor(a, ts[i])
	}
	return ts, err
}

// OpenTicketFor returns the open ticket of (device, category), if any: the
// agent names the ticket an incident was merged into with it.
func (s *Service) OpenTicketFor(ctx context.Context, device, category string) (Ticket, bool, error) {
	ts, err := s.store.ListTickets(ctx, Filter{Device: device, Open: true, Limit: MaxListLimit})
	if err != nil {
		return Ticket{}, false, fmt.Errorf("open ticket for %s: %w", DedupKey(device, category), err)
	}
	for _, t := range ts {
		if t.Category == category && t.DedupKey == DedupKey(device, category) {
			return s.decorate(t, s.now().UTC()), true, nil
		}
	}
	return Ticket{}, false, nil
}

// openingNote is what the opening event says: the fault, then what the rule
// says about it.
func openingNote(sig Signal) string {
	if sig.Description == "" {
		return sig.Summary
	}
	return sig.Summary + "\n" + sig.Description
}
