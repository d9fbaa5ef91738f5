package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nocagent/nocagent/ticketing"
)

// querier is what reads and writes need from *pgxpool.Pool and pgx.Tx.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxTxAttempts bounds WithTx's retries of a transaction PostgreSQL aborted
// to break a deadlock or a serialization conflict.
const maxTxAttempts = 5

// WithTx runs fn in one READ COMMITTED transaction. Isolation between
// agents comes from the locks the Tx methods take (see the package
// comment), not from the isolation level, so a Tx always sees what other
// agents committed before it took the lock.
//
// Two transactions locking the same rows in opposite orders (say a survey
// opening a follow-up ticket while an ingest links an older ticket to a
// problem) can deadlock; PostgreSQL aborts one, and WithTx runs fn again on
// a fresh transaction, up to maxTxAttempts times. fn must therefore be safe
// to call more than once: the Service's closures only assign their results.
func (s *Store) WithTx(ctx context.Context, fn func(ticketing.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || !retryable(err) || attempt == maxTxAttempts {
			return err
		}
		// Jitter, so the two victims do not collide again.
		wait := time.Duration(attempt) * time.Duration(5+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(ticketing.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin transaction on %s: %w", s.where, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(&txn{q: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction on %s: %w", s.where, err)
	}
	return nil
}

// retryable reports a transaction PostgreSQL aborted for a conflict with a
// concurrent one (serialization_failure, deadlock_detected).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// view runs fn in a read-only snapshot, so a ticket, its evidence and its
// timeline agree with each other.
func (s *Store) view(ctx context.Context, fn func(q querier) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin read on %s: %w", s.where, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(tx)
}

// args numbers query parameters as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// TicketByID implements ticketing.Store.
func (s *Store) TicketByID(ctx context.Context, id string) (ticketing.Ticket, error) {
	var t ticketing.Ticket
	err := s.view(ctx, func(q querier) error {
		var err error
		t, err = ticketByID(ctx, q, id, "")
		return err
	})
	return t, err
}

// ListTickets implements ticketing.Store.
func (s *Store) ListTickets(ctx context.Context, f ticketing.Filter) ([]ticketing.Ticket, error) {
	var where []string
	var a args
	if f.State != "" {
		where = append(where, "state = "+a.add(string(f.State)))
	}
	if f.Priority != "" {
		where = append(where, "priority = "+a.add(string(f.Priority)))
	}
	if f.Customer != "" {
		where = append(where, "customer = "+a.add(f.Customer))
	}
	if f.Affecting != "" {
		p := a.add(f.Affecting)
		where = append(where, `(customer = `+p+` OR EXISTS (SELECT 1 FROM ticket_impacted i
			WHERE i.customer = `+p+` AND i.ticket_id = tickets.id))`)
	}
	if f.Device != "" {
		where = append(where, "device_name = "+a.add(f.Device))
	}
	if f.Open {
		where = append(where, openStatesSQL)
	}
	if f.Active {
		where = append(where, activeStatesSQL)
	}
	if f.Assignee != "" {
		where = append(where, "assignee = "+a.add(f.Assignee))
	}
	if !f.OpenedFrom.IsZero() {
		where = append(where, "opened_at >= "+a.add(f.OpenedFrom))
	}
	if !f.OpenedTo.IsZero() {
		where = append(where, "opened_at < "+a.add(f.OpenedTo))
	}
	query := ticketColumns
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = ticketing.DefaultListLimit
	}
	query += " ORDER BY seq DESC LIMIT " + a.add(limit)

	var ts []ticketing.Ticket
	err := s.view(ctx, func(q querier) error {
		var err error
		if ts, err = queryTickets(ctx, q, query, a...); err != nil {
			return err
		}
		for i := range ts {
			if err := loadDetails(ctx, q, &ts[i], f.WithTimeline); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// openStatesSQL matches ticketing.OpenStates and the partial unique index.
var openStatesSQL = func() string {
	var qs []string
	for _, s := range ticketing.OpenStates {
		qs = append(qs, "'"+string(s)+"'")
	}
	return "state IN (" + strings.Join(qs, ", ") + ")"
}()

// activeStatesSQL selects what Tick watches: open or resolved.
var activeStatesSQL = strings.Replace(openStatesSQL, "IN (", "IN ('"+string(ticketing.StateResolved)+"', ", 1)

const ticketColumns = `SELECT id, dedup_key, state, priority, category, source, fingerprint,
	title, device, opened_at, updated_at, resolved_at, resolved_by, reopen_count,
	assignee, tier, waiting_customer, cause, solution, closed_at, due_at, parent_id, problem_id, intake FROM tickets`

func queryTickets(ctx context.Context, q querier, query string, args ...any) ([]ticketing.Ticket, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query tickets: %w", err)
	}
	defer rows.Close()
	var ts []ticketing.Ticket
	for rows.Next() {
		var (
			t              ticketing.Ticket
			state, prio    string
			device, intake []byte
		)
		if err := rows.Scan(&t.ID, &t.DedupKey, &state, &prio, &t.Category, &t.Source, &t.Fingerprint,
			&t.Title, &device, &t.OpenedAt, &t.UpdatedAt, &t.ResolvedAt, &t.ResolvedBy, &t.ReopenCount,
			&t.Assignee, &t.Tier, &t.WaitingCustomer, &t.Cause, &t.Solution, &t.ClosedAt, &t.DueAt,
			&t.ParentID, &t.ProblemID, &intake); err != nil {
			return nil, fmt.Errorf("scan ticket: %w", err)
		}
		t.State, t.Priority = ticketing.State(state), ticketing.Priority(prio)
		if err := json.Unmarshal(device, &t.Device); err != nil {
			return nil, fmt.Errorf("ticket %s: decode device: %w", t.ID, err)
		}
		if intake != nil {
			t.Intake = &ticketing.Intake{}
			if err := json.Unmarshal(intake, t.Intake); err != nil {
				return nil, fmt.Errorf("ticket %s: decode intake: %w", t.ID, err)
			}
			t.Intake.OnsetAt = utcPtr(t.Intake.OnsetAt)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query tickets: %w", err)
	}
	return ts, nil
}

// loadDetails fills t's evidence, impacted devices and, if timeline, its
// timeline.
func loadDetails(ctx context.Context, q querier, t *ticketing.Ticket, timeline bool) error {
	var err error
	if t.Evidence, err = evidenceOf(ctx, q, t.ID); err != nil {
		return err
	}
	if t.ImpactedDevices, err = impactedOf(ctx, q, t.ID); err != nil {
		return err
	}
	if timeline {
		if t.Timeline, err = timelineOf(ctx, q, t.ID); err != nil {
			return err
		}
	}
	return nil
}

// fullTicket loads the one ticket query selects, with evidence, impacted
// devices and timeline.
func fullTicket(ctx context.Context, q querier, query string, args ...any) (ticketing.Ticket, bool, error) {
	ts, err := queryTickets(ctx, q, query, args...)
	if err != nil || len(ts) == 0 {
		return ticketing.Ticket{}, false, err
	}
	t := ts[0]
	if err := loadDetails(ctx, q, &t, true); err != nil {
		return ticketing.Ticket{}, false, err
	}
	return t, true, nil
}

// ticketByID loads ticket id; lock is "" or a locking clause.
func ticketByID(ctx context.Context, q querier, id, lock string) (ticketing.Ticket, error) {
	t, ok, err := fullTicket(ctx, q, ticketColumns+" WHERE id = $1"+lock, id)
	if err != nil {
		return ticketing.Ticket{}, err
	}
	if !ok {
		return ticketing.Ticket{}, ticketing.Errorf(ticketing.ENOTFOUND, "ticket %s not found", id)
	}
	return t, nil
}

func evidenceOf(ctx context.Context, q querier, ticketID string) ([]ticketing.Evidence, error) {
	rows, err := q.Query(ctx, `SELECT id, fingerprint, rule, instance, severity, priority, value,
		threshold, summary, at, firing, cleared_at, fires FROM ticket_evidence WHERE ticket_id = $1 ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket %s: query evidence: %w", ticketID, err)
	}
	defer rows.Close()
	evs := []ticketing.Evidence{}
	for rows.Next() {
		var e ticketing.Evidence
		var prio string
		if err := rows.Scan(&e.ID, &e.Fingerprint, &e.Rule, &e.Instance, &e.Severity, &prio, &e.Value,
			&e.Threshold, &e.Summary, &e.At, &e.Firing, &e.ClearedAt, &e.Fires); err != nil {
			return nil, fmt.Errorf("ticket %s: scan evidence: %w", ticketID, err)
		}
		e.Priority = ticketing.Priority(prio)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticket %s: query evidence: %w", ticketID, err)
	}
	return evs, nil
}

func impactedOf(ctx context.Context, q querier, ticketID string) ([]ticketing.ImpactedDevice, error) {
	rows, err := q.Query(ctx, `SELECT name, serial, customer, added_at, recovered_at
		FROM ticket_impacted WHERE ticket_id = $1 ORDER BY name`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket %s: query impacted devices: %w", ticketID, err)
	}
	defer rows.Close()
	ds := []ticketing.ImpactedDevice{}
	for rows.Next() {
		var d ticketing.ImpactedDevice
		if err := rows.Scan(&d.Name, &d.Serial, &d.Customer, &d.AddedAt, &d.RecoveredAt); err != nil {
			return nil, fmt.Errorf("ticket %s: scan impacted device: %w", ticketID, err)
		}
		d.Recovered = d.RecoveredAt != nil
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticket %s: query impacted devices: %w", ticketID, err)
	}
	return ds, nil
}

func timelineOf(ctx context.Context, q querier, ticketID string) ([]ticketing.Event, error) {
	rows, err := q.Query(ctx, `SELECT seq, at, actor, kind, from_value, to_value, note, internal, role
		FROM ticket_events WHERE ticket_id = $1 ORDER BY seq`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket %s: query timeline: %w", ticketID, err)
	}
	defer rows.Close()
	var evs []ticketing.Event
	for rows.Next() {
		var e ticketing.Event
		var kind string
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &kind, &e.From, &e.To, &e.Note, &e.Internal, &e.Role); err != nil {
			return nil, fmt.Errorf("ticket %s: scan event: %w", ticketID, err)
		}
		e.Kind = ticketing.EventKind(kind)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticket %s: query timeline: %w", ticketID, err)
	}
	return evs, nil
}

// txn implements ticketing.Tx.
type txn struct{ q pgx.Tx }

// lock takes a transaction-scoped advisory lock on (space, key): the next
// agent asking for the same key waits until this transaction ends, and
// then reads what it committed (READ COMMITTED takes a new snapshot per
// statement). Hash collisions only make unrelated keys wait.
func (x *txn) lock(ctx context.Context, space int32, key string) error {
	if _, err := x.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, space, key); err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}
	return nil
}

func (x *txn) TicketByID(ctx context.Context, id string) (ticketing.Ticket, error) {
	return ticketByID(ctx, x.q, id, " FOR UPDATE")
}

func (x *txn) OpenTicketByKey(ctx context.Context, key string) (ticketing.Ticket, bool, error) {
	if err := x.lock(ctx, lockDedup, key); err != nil {
		return ticketing.Ticket{}, false, err
	}
	return fullTicket(ctx, x.q, ticketColumns+" WHERE dedup_key = $1 AND "+openStatesSQL+" FOR UPDATE", key)
}

func (x *txn) LatestTicketByKey(ctx context.Context, key string) (ticketing.Ticket, bool, error) {
	if err := x.lock(ctx, lockDedup, key); err != nil {
		return ticketing.Ticket{}, false, err
	}
	return fullTicket(ctx, x.q, ticketColumns+" WHERE dedup_key = $1 ORDER BY seq DESC LIMIT 1 FOR UPDATE", key)
}

// next takes the next number from counter name. GREATEST keeps it ahead of
// rows written without it (by hand, or by a restore).
func (x *txn) next(ctx context.Context, name, table string) (int64, error) {
	var n int64
	err := x.q.QueryRow(ctx, `UPDATE counters SET value = GREATEST(value, (SELECT COALESCE(MAX(seq), 0) FROM `+table+`)) + 1
		WHERE name = $1 RETURNING value`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next %s number: %w", name, err)
	}
	return n, nil
}

func (x *txn) IdempotentTicket(ctx context.Context, scope, key string) (string, string, bool, error) {
	// Keys hold no control characters: "\n" separates.
	if err := x.lock(ctx, lockIdempotency, scope+"\n"+key); err != nil {
		return "", "", false, err
	}
	var id, fp string
	err := x.q.QueryRow(ctx, `SELECT ticket_id, fingerprint FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).Scan(&id, &fp)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, fmt.Errorf("idempotency key: %w", err)
	}
	return id, fp, true, nil
}

func (x *txn) PutIdempotencyKey(ctx context.Context, scope, key, fingerprint, ticketID string, at time.Time) error {
	_, err := x.q.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, ticket_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		scope, key, fingerprint, ticketID, at)
	if err != nil {
		return storeErr(err, "idempotency key for %s", ticketID)
	}
	return nil
}

func (x *txn) NextTicketSeq(ctx context.Context) (int64, error) {
	return x.next(ctx, "ticket", "tickets")
}

func (x *txn) CreateTicket(ctx context.Context, seq int64, t ticketing.Ticket) error {
	device, err := json.Marshal(t.Device)
	if err != nil {
		return fmt.Errorf("ticket %s: encode device: %w", t.ID, err)
	}
	var intake []byte
	if t.Intake != nil {
		if intake, err = json.Marshal(t.Intake); err != nil {
			return fmt.Errorf("ticket %s: encode intake: %w", t.ID, err)
		}
	}
	_, err = x.q.Exec(ctx, `INSERT INTO tickets (seq, id, dedup_key, state, priority, category, source,
		fingerprint, title, device_name, customer, device, opened_at, updated_at, resolved_at, resolved_by, reopen_count,
		assignee, tier, waiting_customer, cause, solution, closed_at, due_at, parent_id, problem_id, intake)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
		$23, $24, $25, $26, $27)`,
		seq, t.ID, t.DedupKey, string(t.State), string(t.Priority), t.Category, t.Source,
		t.Fingerprint, t.Title, t.Device.Name, t.Device.Customer, string(device),
		t.OpenedAt, t.UpdatedAt, t.ResolvedAt, t.ResolvedBy, t.ReopenCount,
		t.Assignee, max(t.Tier, 1), t.WaitingCustomer, t.Cause, t.Solution, t.ClosedAt, t.DueAt,
		t.ParentID, t.ProblemID, jsonOrNil(intake))
	if err != nil {
		return storeErr(err, "create ticket %s (%s)", t.ID, t.DedupKey)
	}
	return nil
}

// jsonOrNil passes JSON as text (jsonb parses it) and nil as NULL.
func jsonOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (x *txn) UpdateTicket(ctx context.Context, t ticketing.Ticket) error {
	tag, err := x.q.Exec(ctx, `UPDATE tickets SET state = $1, priority = $2, title = $3, updated_at = $4,
		resolved_at = $5, resolved_by = $6, reopen_count = $7, assignee = $8, tier = $9, waiting_customer = $10,
		cause = $11, solution = $12, closed_at = $13, due_at = $14, problem_id = $15 WHERE id = $16`,
		string(t.State), string(t.Priority), t.Title, t.UpdatedAt,
		t.ResolvedAt, t.ResolvedBy, t.ReopenCount, t.Assignee, max(t.Tier, 1), t.WaitingCustomer,
		t.Cause, t.Solution, t.ClosedAt, t.DueAt, t.ProblemID, t.ID)
	if err != nil {
		return storeErr(err, "update ticket %s", t.ID)
	}
	if tag.RowsAffected() == 0 {
		return ticketing.Errorf(ticketing.ENOTFOUND, "ticket %s not found", t.ID)
	}
	return nil
}

func (x *txn) AddEvidence(ctx context.Context, ticketID string, e ticketing.Evidence) (int64, error) {
	var id int64
	err := x.q.QueryRow(ctx, `INSERT INTO ticket_evidence (ticket_id, fingerprint, rule, instance,
		severity, priority, value, threshold, summary, at, firing, cleared_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		ticketID, e.Fingerprint, e.Rule, e.Instance, e.Severity, string(e.Priority), e.Value, e.Threshold,
		e.Summary, e.At, e.Firing, e.ClearedAt).Scan(&id)
	if err != nil {
		return 0, storeErr(err, "ticket %s: add evidence %s", ticketID, e.Fingerprint)
	}
	return id, nil
}

func (x *txn) RefireEvidence(ctx context.Context, ticketID string, id int64, e ticketing.Evidence) error {
	tag, err := x.q.Exec(ctx, `UPDATE ticket_evidence SET firing = true, cleared_at = NULL, fires = fires + 1,
		severity = $1, priority = $2, value = $3, threshold = $4, summary = $5, at = $6
		WHERE id = $7 AND ticket_id = $8 AND NOT firing`,
		e.Severity, string(e.Priority), e.Value, e.Threshold, e.Summary, e.At, id, ticketID)
	if err != nil {
		return storeErr(err, "ticket %s: refire evidence %d", ticketID, id)
	}
	if tag.RowsAffected() == 0 {
		return ticketing.Errorf(ticketing.ECONFLICT, "ticket %s: evidence %d is firing", ticketID, id)
	}
	return nil
}

func (x *txn) ClearEvidence(ctx context.Context, ticketID string, id int64, at time.Time) error {
	tag, err := x.q.Exec(ctx, `UPDATE ticket_evidence SET firing = false, cleared_at = $1
		WHERE id = $2 AND ticket_id = $3 AND firing`, at, id, ticketID)
	if err != nil {
		return storeErr(err, "ticket %s: clear evidence %d", ticketID, id)
	}
	if tag.RowsAffected() == 0 {
		return ticketing.Errorf(ticketing.ECONFLICT, "ticket %s: evidence %d is not firing", ticketID, id)
	}
	return nil
}

func (x *txn) SaveImpacted(ctx context.Context, ticketID string, ds []ticketing.ImpactedDevice) error {
	for _, d := range ds {
		var recovered *time.Time
		if d.Recovered {
			// Recovered without a time is still recovered: keep the flag.
			recovered = d.RecoveredAt
			if recovered == nil {
				recovered = &d.AddedAt
			}
		}
		_, err := x.q.Exec(ctx, `INSERT INTO ticket_impacted (ticket_id, name, serial, customer, added_at, recovered_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (ticket_id, name) DO UPDATE SET serial = excluded.serial, customer = excluded.customer,
				added_at = excluded.added_at, recovered_at = excluded.recovered_at`,
			ticketID, d.Name, d.Serial, d.Customer, d.AddedAt, recovered)
		if err != nil {
			return storeErr(err, "ticket %s: save impacted device %s", ticketID, d.Name)
		}
	}
	return nil
}

func (x *txn) AppendEvents(ctx context.Context, ticketID string, evs []ticketing.Event) error {
	for _, e := range evs {
		_, err := x.q.Exec(ctx, `INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, from_value, to_value, note, internal, role)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			ticketID, e.Seq, e.At, e.Actor, string(e.Kind), e.From, e.To, e.Note, e.Internal, e.Role)
		if err != nil {
			return storeErr(err, "ticket %s: append event %d (%s)", ticketID, e.Seq, e.Kind)
		}
	}
	return nil
}

func (x *txn) EnqueueOutbox(ctx context.Context, msgs []ticketing.OutboxMessage) error {
	for _, m := range msgs {
		_, err := x.q.Exec(ctx, `INSERT INTO outbox (ticket_id, event_seq, event_id, kind, channel, payload,
			created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)`,
			m.TicketID, m.EventSeq, m.EventID, string(m.Kind), m.Channel, string(m.Payload),
			m.CreatedAt, m.NextAttemptAt)
		if err != nil {
			return storeErr(err, "enqueue %s for %s", m.EventID, m.Channel)
		}
	}
	return nil
}

// DueOutbox implements ticketing.OutboxStore for several dispatchers: it
// claims the messages it returns by setting claimed_until = now + lease, in
// one statement that locks candidates with FOR UPDATE SKIP LOCKED. A second
// dispatcher running at the same moment skips rows the first is claiming,
// and one running later sees their lease. MarkDelivered and MarkFailed end
// the claim; a dispatcher that dies mid-batch leaves its claims to expire.
//
// Order per (ticket, channel) holds across dispatchers: a message is only
// due when no older one of its ticket and channel is undelivered, claimed
// or not.
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) ([]ticketing.OutboxMessage, error) {
	return s.DueOutboxChannel(ctx, "", now, limit)
}

// DueOutboxChannel implements ticketing.OutboxStore.
func (s *Store) DueOutboxChannel(ctx context.Context, channel string, now time.Time, limit int) ([]ticketing.OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, `WITH batch AS (SELECT nextval('outbox_claim_batches') AS n),
		due AS (
			SELECT o.id FROM outbox o
			WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= $1
			  AND ($4 = '' OR o.channel = $4)
			  AND (o.claimed_until IS NULL OR o.claimed_until <= $1)
			  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.ticket_id = o.ticket_id AND p.channel = o.channel
			                  AND p.delivered_at IS NULL AND p.dead_at IS NULL AND p.id < o.id)
			ORDER BY o.next_attempt_at, o.id
			LIMIT $2
			FOR UPDATE OF o SKIP LOCKED)
		UPDATE outbox SET claimed_until = $3, claim_batch = batch.n FROM due, batch WHERE outbox.id = due.id
		RETURNING outbox.id, outbox.ticket_id, outbox.event_seq, outbox.event_id, outbox.kind, outbox.channel,
			outbox.payload, outbox.created_at, outbox.attempts, outbox.next_attempt_at, outbox.last_error`,
		now, limit, now.Add(s.lease), channel)
	if err != nil {
		return nil, fmt.Errorf("claim due outbox on %s: %w", s.where, err)
	}
	defer rows.Close()
	var msgs []ticketing.OutboxMessage
	for rows.Next() {
		var m ticketing.OutboxMessage
		var kind string
		var payload []byte
		if err := rows.Scan(&m.ID, &m.TicketID, &m.EventSeq, &m.EventID, &kind, &m.Channel,
			&payload, &m.CreatedAt, &m.Attempts, &m.NextAttemptAt, &m.LastError); err != nil {
			return nil, fmt.Errorf("scan outbox message: %w", err)
		}
		m.Kind, m.Payload = ticketing.EventKind(kind), json.RawMessage(payload)
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim due outbox on %s: %w", s.where, err)
	}
	// RETURNING has no order.
	sort.Slice(msgs, func(i, j int) bool {
		if !msgs[i].NextAttemptAt.Equal(msgs[j].NextAttemptAt) {
			return msgs[i].NextAttemptAt.Before(msgs[j].NextAttemptAt)
		}
		return msgs[i].ID < msgs[j].ID
	})
	return msgs, nil
}

// MarkDelivered implements ticketing.OutboxStore.
func (s *Store) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET delivered_at = $1, attempts = attempts + 1, last_error = '',
		claimed_until = NULL, claim_batch = NULL WHERE id = $2 AND delivered_at IS NULL`, at, id)
	if err != nil {
		return fmt.Errorf("mark outbox message %d delivered: %w", id, err)
	}
	return nil
}

// MarkFailed implements ticketing.OutboxStore. It ends the claim, so the
// message is due again at next for whichever dispatcher polls then.
//
// A Dispatcher that fails on a channel leaves the rest of that channel's
// batch for its next pass without marking it; so MarkFailed also hands
// back the other undelivered messages of the same channel claimed by the
// same DueOutbox call, instead of leaving them leased until the lease ends.
func (s *Store) MarkFailed(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE outbox o SET claimed_until = NULL, claim_batch = NULL FROM outbox f
			WHERE f.id = $1 AND f.claim_batch IS NOT NULL AND o.claim_batch = f.claim_batch
			  AND o.channel = f.channel AND o.id <> f.id AND o.delivered_at IS NULL`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3,
			claimed_until = NULL, claim_batch = NULL WHERE id = $4 AND delivered_at IS NULL`, attempts, next, lastErr, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark outbox message %d failed: %w", id, err)
	}
	return nil
}

// OutboxBacklog implements ticketing.OutboxStore.
func (s *Store) OutboxBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox backlog on %s: %w", s.where, err)
	}
	return n, nil
}

// MarkDead implements ticketing.OutboxStore.
func (s *Store) MarkDead(ctx context.Context, id int64, attempts int, at time.Time, lastErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET attempts = $1, dead_at = $2, last_error = $3,
		claimed_until = NULL, claim_batch = NULL WHERE id = $4 AND delivered_at IS NULL`, attempts, at, lastErr, id)
	if err != nil {
		return fmt.Errorf("mark outbox message %d dead on %s: %w", id, s.where, err)
	}
	return nil
}

// DeadOutbox implements ticketing.OutboxStore.
func (s *Store) DeadOutbox(ctx context.Context, limit int) ([]ticketing.OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, ticket_id, event_seq, event_id, kind, channel, created_at,
		attempts, dead_at, last_error FROM outbox WHERE delivered_at IS NULL AND dead_at IS NOT NULL
		ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("query dead letters on %s: %w", s.where, err)
	}
	defer rows.Close()
	msgs := []ticketing.OutboxMessage{}
	for rows.Next() {
		var m ticketing.OutboxMessage
		var kind string
		if err := rows.Scan(&m.ID, &m.TicketID, &m.EventSeq, &m.EventID, &kind, &m.Channel, &m.CreatedAt,
			&m.Attempts, &m.DeadAt, &m.LastError); err != nil {
			return nil, fmt.Errorf("scan dead letter: %w", err)
		}
		m.Kind = ticketing.EventKind(kind)
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// RetryDead implements ticketing.OutboxStore.
func (s *Store) RetryDead(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = $1
		WHERE id = $2 AND delivered_at IS NULL AND dead_at IS NOT NULL`, now, id)
	if err != nil {
		return fmt.Errorf("retry outbox message %d on %s: %w", id, s.where, err)
	}
	if tag.RowsAffected() == 0 {
		return ticketing.Errorf(ticketing.ENOTFOUND, "no dead letter %d", id)
	}
	return nil
}

// storeErr wraps err, turning an integrity violation (SQLSTATE class 23:
// unique, foreign key, check, not null, and the timeline trigger) into
// ECONFLICT so the caller (and an API user) learns it clashed with stored
// data.
func storeErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") {
		return fmt.Errorf("%w: %w", ticketing.Errorf(ticketing.ECONFLICT, "%s: conflicts with stored data", what), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PutRecord implements ticketing.RecordStore.
func (s *Store) PutRecord(ctx context.Context, r ticketing.Record) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO records (kind, id, body) VALUES ($1, $2, $3)
		ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body`, r.Kind, r.ID, string(r.Body))
	if err != nil {
		return storeErr(err, "store %s record %q on %s", r.Kind, r.ID, s.where)
	}
	return nil
}

// DeleteRecord implements ticketing.RecordStore.
func (s *Store) DeleteRecord(ctx context.Context, kind, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM records WHERE kind = $1 AND id = $2`, kind, id)
	if err != nil {
		return false, fmt.Errorf("delete %s record %q on %s: %w", kind, id, s.where, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Records implements ticketing.RecordStore.
func (s *Store) Records(ctx context.Context, kind string) ([]ticketing.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, body::text FROM records WHERE kind = $1 ORDER BY id`, kind)
	if err != nil {
		return nil, fmt.Errorf("query %s records on %s: %w", kind, s.where, err)
	}
	defer rows.Close()
	var out []ticketing.Record
	for rows.Next() {
		r := ticketing.Record{Kind: kind}
		var body string
		if err := rows.Scan(&r.ID, &body); err != nil {
			return nil, fmt.Errorf("read %s record on %s: %w", kind, s.where, err)
		}
		r.Body = []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}
