package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
	sqlite3 "modernc.org/sqlite/lib"
)

// querier is what reads and writes need from *sql.DB, *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// WithTx runs fn in one IMMEDIATE transaction on the writer connection.
func (s *Store) WithTx(ctx context.Context, fn func(ticketing.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction on %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(&txn{q: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction on %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction, so a ticket, its evidence and its
// timeline come from one snapshot.
func (s *Store) view(ctx context.Context, fn func(q querier) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read on %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// TicketByID implements ticketing.Store.
func (s *Store) TicketByID(ctx context.Context, id string) (ticketing.Ticket, error) {
	var t ticketing.Ticket
	err := s.view(ctx, func(q querier) error {
		var err error
		t, err = ticketByID(ctx, q, id)
		return err
	})
	return t, err
}

// ListTickets implements ticketing.Store.
func (s *Store) ListTickets(ctx context.Context, f ticketing.Filter) ([]ticketing.Ticket, error) {
	var where []string
	var args []any
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	if f.Priority != "" {
		where, args = append(where, "priority = ?"), append(args, string(f.Priority))
	}
	if f.Customer != "" {
		where, args = append(where, "customer = ?"), append(args, f.Customer)
	}
	if f.Affecting != "" {
		where = append(where, `(customer = ? OR EXISTS (SELECT 1 FROM ticket_impacted i
			WHERE i.customer = ? AND i.ticket_id = tickets.id))`)
		args = append(args, f.Affecting, f.Affecting)
	}
	if f.Device != "" {
		where, args = append(where, "device_name = ?"), append(args, f.Device)
	}
	if f.Open {
		where = append(where, openStatesSQL)
	}
	if f.Active {
		where = append(where, activeStatesSQL)
	}
	if f.Assignee != "" {
		where, args = append(where, "assignee = ?"), append(args, f.Assignee)
	}
	if !f.OpenedFrom.IsZero() {
		where, args = append(where, "opened_at >= ?"), append(args, formatTime(f.OpenedFrom))
	}
	if !f.OpenedTo.IsZero() {
		where, args = append(where, "opened_at < ?"), append(args, formatTime(f.OpenedTo))
	}
	query := ticketColumns
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = ticketing.DefaultListLimit
	}
	query += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit)

	var ts []ticketing.Ticket
	err := s.view(ctx, func(q querier) error {
		var err error
		if ts, err = queryTickets(ctx, q, query, args...); err != nil {
			return err
		}
		for i := range ts {
			if ts[i].Evidence, err = evidenceOf(ctx, q, ts[i].ID); err != nil {
				return err
			}
			if ts[i].ImpactedDevices, err = impactedOf(ctx, q, ts[i].ID); err != nil {
				return err
			}
			if f.WithTimeline {
				if ts[i].Timeline, err = timelineOf(ctx, q, ts[i].ID); err != nil {
					return err
				}
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

const ticketColumns = `SELECT seq, id, dedup_key, state, priority, category, source, fingerprint,
	title, device, opened_at, updated_at, resolved_at, resolved_by, reopen_count,
	assignee, tier, waiting_customer, cause, solution, closed_at, due_at, parent_id, problem_id, intake FROM tickets`

func queryTickets(ctx context.Context, q querier, query string, args ...any) ([]ticketing.Ticket, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query tickets: %w", err)
	}
	defer rows.Close()
	var ts []ticketing.Ticket
	for rows.Next() {
		var (
			t                  ticketing.Ticket
			seq                int64
			device, open, upd  string
			resolved           sql.NullString
			state, prio, resBy string
			closed, due        sql.NullString
			intake             sql.NullString
		)
		if err := rows.Scan(&seq, &t.ID, &t.DedupKey, &state, &prio, &t.Category, &t.Source, &t.Fingerprint,
			&t.Title, &device, &open, &upd, &resolved, &resBy, &t.ReopenCount,
			&t.Assignee, &t.Tier, &t.WaitingCustomer, &t.Cause, &t.Solution, &closed, &due, &t.ParentID, &t.ProblemID, &intake); err != nil {
			return nil, fmt.Errorf("scan ticket: %w", err)
		}
		if t.ClosedAt, err = parseTimePtr(closed); err != nil {
			return nil, fmt.Errorf("ticket %s closed_at: %w", t.ID, err)
		}
		if t.DueAt, err = parseTimePtr(due); err != nil {
			return nil, fmt.Errorf("ticket %s due_at: %w", t.ID, err)
		}
		if intake.Valid {
			t.Intake = &ticketing.Intake{}
			if err := json.Unmarshal([]byte(intake.String), t.Intake); err != nil {
				return nil, fmt.Errorf("ticket %s: decode intake: %w", t.ID, err)
			}
		}
		t.State, t.Priority, t.ResolvedBy = ticketing.State(state), ticketing.Priority(prio), resBy
		if err := json.Unmarshal([]byte(device), &t.Device); err != nil {
			return nil, fmt.Errorf("ticket %s: decode device: %w", t.ID, err)
		}
		if t.OpenedAt, err = parseTime(open); err != nil {
			return nil, fmt.Errorf("ticket %s opened_at: %w", t.ID, err)
		}
		if t.UpdatedAt, err = parseTime(upd); err != nil {
			return nil, fmt.Errorf("ticket %s updated_at: %w", t.ID, err)
		}
		if t.ResolvedAt, err = parseTimePtr(resolved); err != nil {
			return nil, fmt.Errorf("ticket %s resolved_at: %w", t.ID, err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query tickets: %w", err)
	}
	return ts, nil
}

// fullTicket loads the one ticket query selects, with evidence and timeline.
func fullTicket(ctx context.Context, q querier, query string, args ...any) (ticketing.Ticket, bool, error) {
	ts, err := queryTickets(ctx, q, query, args...)
	if err != nil || len(ts) == 0 {
		return ticketing.Ticket{}, false, err
	}
	t := ts[0]
	if t.Evidence, err = evidenceOf(ctx, q, t.ID); err != nil {
		return ticketing.Ticket{}, false, err
	}
	if t.ImpactedDevices, err = impactedOf(ctx, q, t.ID); err != nil {
		return ticketing.Ticket{}, false, err
	}
	if t.Timeline, err = timelineOf(ctx, q, t.ID); err != nil {
		return ticketing.Ticket{}, false, err
	}
	return t, true, nil
}

func ticketByID(ctx context.Context, q querier, id string) (ticketing.Ticket, error) {
	t, ok, err := fullTicket(ctx, q, ticketColumns+" WHERE id = ?", id)
	if err != nil {
		return ticketing.Ticket{}, err
	}
	if !ok {
		return ticketing.Ticket{}, ticketing.Errorf(ticketing.ENOTFOUND, "ticket %s not found", id)
	}
	return t, nil
}

func evidenceOf(ctx context.Context, q querier, ticketID string) ([]ticketing.Evidence, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, fingerprint, rule, instance, severity, priority, value,
		threshold, summary, at, firing, cleared_at, fires FROM ticket_evidence WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket %s: query evidence: %w", ticketID, err)
	}
	defer rows.Close()
	evs := []ticketing.Evidence{}
	for rows.Next() {
		var (
			e       ticketing.Evidence
			prio    string
			at      string
			cleared sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.Fingerprint, &e.Rule, &e.Instance, &e.Severity, &prio, &e.Value,
			&e.Threshold, &e.Summary, &at, &e.Firing, &cleared, &e.Fires); err != nil {
			return nil, fmt.Errorf("ticket %s: scan evidence: %w", ticketID, err)
		}
		e.Priority = ticketing.Priority(prio)
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("ticket %s evidence %d: %w", ticketID, e.ID, err)
		}
		if e.ClearedAt, err = parseTimePtr(cleared); err != nil {
			return nil, fmt.Errorf("ticket %s evidence %d: %w", ticketID, e.ID, err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticket %s: query evidence: %w", ticketID, err)
	}
	return evs, nil
}

func impactedOf(ctx context.Context, q querier, ticketID string) ([]ticketing.ImpactedDevice, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, serial, customer, added_at, recovered_at
		FROM ticket_impacted WHERE ticket_id = ? ORDER BY name`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket %s: query impacted devices: %w", ticketID, err)
	}
	defer rows.Close()
	ds := []ticketing.ImpactedDevice{}
	for rows.Next() {
		var (
			d         ticketing.ImpactedDevice
			added     string
			recovered sql.NullString
		)
		if err := rows.Scan(&d.Name, &d.Serial, &d.Customer, &added, &recovered); err != nil {
			return nil, fmt.Errorf("ticket %s: scan impacted device: %w", ticketID, err)
		}
		if d.AddedAt, err = parseTime(added); err != nil {
			return nil, fmt.Errorf("ticket %s impacted device %s: %w", ticketID, d.Name, err)
		}
		if d.RecoveredAt, err = parseTimePtr(recovered); err != nil {
			return nil, fmt.Errorf("ticket %s impacted device %s: %w", ticketID, d.Name, err)
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
	rows, err := q.QueryContext(ctx, `SELECT seq, at, actor, kind, from_value, to_value, note, internal, role
		FROM ticket_events WHERE ticket_id = ? ORDER BY seq`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket %s: query timeline: %w", ticketID, err)
	}
	defer rows.Close()
	var evs []ticketing.Event
	for rows.Next() {
		var (
			e        ticketing.Event
			at, kind string
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &kind, &e.From, &e.To, &e.Note, &e.Internal, &e.Role); err != nil {
			return nil, fmt.Errorf("ticket %s: scan event: %w", ticketID, err)
		}
		e.Kind = ticketing.EventKind(kind)
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("ticket %s event %d: %w", ticketID, e.Seq, err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticket %s: query timeline: %w", ticketID, err)
	}
	return evs, nil
}

// txn implements ticketing.Tx.
type txn struct{ q querier }

func (x *txn) TicketByID(ctx context.Context, id string) (ticketing.Ticket, error) {
	return ticketByID(ctx, x.q, id)
}

func (x *txn) OpenTicketByKey(ctx context.Context, key string) (ticketing.Ticket, bool, error) {
	return fullTicket(ctx, x.q, ticketColumns+" WHERE dedup_key = ? AND "+openStatesSQL, key)
}

func (x *txn) LatestTicketByKey(ctx context.Context, key string) (ticketing.Ticket, bool, error) {
	return fullTicket(ctx, x.q, ticketColumns+" WHERE dedup_key = ? ORDER BY seq DESC LIMIT 1", key)
}

func (x *txn) IdempotentTicket(ctx context.Context, scope, key string) (string, string, bool, error) {
	var id, fp string
	err := x.q.QueryRowContext(ctx, `SELECT ticket_id, fingerprint FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key).Scan(&id, &fp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, fmt.Errorf("idempotency key: %w", err)
	}
	return id, fp, true, nil
}

func (x *txn) PutIdempotencyKey(ctx context.Context, scope, key, fingerprint, ticketID string, at time.Time) error {
	_, err := x.q.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, ticket_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		scope, key, fingerprint, ticketID, formatTime(at))
	if err != nil {
		return storeErr(err, "idempotency key for %s", ticketID)
	}
	return nil
}

func (x *txn) NextTicketSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := x.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets`).Scan(&n); err != nil {
		return 0, fmt.Errorf("next ticket number: %w", err)
	}
	return n, nil
}

func (x *txn) CreateTicket(ctx context.Context, seq int64, t ticketing.Ticket) error {
	device, err := json.Marshal(t.Device)
	if err != nil {
		return fmt.Errorf("ticket %s: encode device: %w", t.ID, err)
	}
	var intake any
	if t.Intake != nil {
		b, err := json.Marshal(t.Intake)
		if err != nil {
			return fmt.Errorf("ticket %s: encode intake: %w", t.ID, err)
		}
		intake = string(b)
	}
	_, err = x.q.ExecContext(ctx, `INSERT INTO tickets (seq, id, dedup_key, state, priority, category, source,
		fingerprint, title, device_name, customer, device, opened_at, updated_at, resolved_at, resolved_by, reopen_count,
		assignee, tier, waiting_customer, cause, solution, closed_at, due_at, parent_id, problem_id, intake)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		seq, t.ID, t.DedupKey, string(t.State), string(t.Priority), t.Category, t.Source,
		t.Fingerprint, t.Title, t.Device.Name, t.Device.Customer, string(device),
		formatTime(t.OpenedAt), formatTime(t.UpdatedAt), formatTimePtr(t.ResolvedAt), t.ResolvedBy, t.ReopenCount,
		t.Assignee, tierOf(t), t.WaitingCustomer, t.Cause, t.Solution, formatTimePtr(t.ClosedAt), formatTimePtr(t.DueAt),
		t.ParentID, t.ProblemID, intake)
	if err != nil {
		return storeErr(err, "create ticket %s (%s)", t.ID, t.DedupKey)
	}
	return nil
}

func (x *txn) UpdateTicket(ctx context.Context, t ticketing.Ticket) error {
	res, err := x.q.ExecContext(ctx, `UPDATE tickets SET state = ?, priority = ?, title = ?, updated_at = ?,
		resolved_at = ?, resolved_by = ?, reopen_count = ?, assignee = ?, tier = ?, waiting_customer = ?,
		cause = ?, solution = ?, closed_at = ?, due_at = ?, problem_id = ? WHERE id = ?`,
		string(t.State), string(t.Priority), t.Title, formatTime(t.UpdatedAt),
		formatTimePtr(t.ResolvedAt), t.ResolvedBy, t.ReopenCount, t.Assignee, tierOf(t), t.WaitingCustomer,
		t.Cause, t.Solution, formatTimePtr(t.ClosedAt), formatTimePtr(t.DueAt), t.ProblemID, t.ID)
	if err != nil {
		return storeErr(err, "update ticket %s", t.ID)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ticketing.Errorf(ticketing.ENOTFOUND, "ticket %s not found", t.ID)
	}
	return nil
}

func (x *txn) AddEvidence(ctx context.Context, ticketID string, e ticketing.Evidence) (int64, error) {
	res, err := x.q.ExecContext(ctx, `INSERT INTO ticket_evidence (ticket_id, fingerprint, rule, instance,
		severity, priority, value, threshold, summary, at, firing, cleared_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ticketID, e.Fingerprint, e.Rule, e.Instance, e.Severity, string(e.Priority), e.Value, e.Threshold,
		e.Summary, formatTime(e.At), e.Firing, formatTimePtr(e.ClearedAt))
	if err != nil {
		return 0, storeErr(err, "ticket %s: add evidence %s", ticketID, e.Fingerprint)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("ticket %s: evidence id: %w", ticketID, err)
	}
	return id, nil
}

func (x *txn) RefireEvidence(ctx context.Context, ticketID string, id int64, e ticketing.Evidence) error {
	res, err := x.q.ExecContext(ctx, `UPDATE ticket_evidence SET firing = 1, cleared_at = NULL, fires = fires + 1,
		severity = ?, priority = ?, value = ?, threshold = ?, summary = ?, at = ?
		WHERE id = ? AND ticket_id = ? AND firing = 0`,
		e.Severity, string(e.Priority), e.Value, e.Threshold, e.Summary, formatTime(e.At), id, ticketID)
	if err != nil {
		return storeErr(err, "ticket %s: refire evidence %d", ticketID, id)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ticketing.Errorf(ticketing.ECONFLICT, "ticket %s: evidence %d is firing", ticketID, id)
	}
	return nil
}

func (x *txn) ClearEvidence(ctx context.Context, ticketID string, id int64, at time.Time) error {
	res, err := x.q.ExecContext(ctx, `UPDATE ticket_evidence SET firing = 0, cleared_at = ?
		WHERE id = ? AND ticket_id = ? AND firing = 1`, formatTime(at), id, ticketID)
	if err != nil {
		return storeErr(err, "ticket %s: clear evidence %d", ticketID, id)
	}
	if n, _ := res.RowsAffected(); n == 0 {
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
		_, err := x.q.ExecContext(ctx, `INSERT INTO ticket_impacted (ticket_id, name, serial, customer, added_at, recovered_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (ticket_id, name) DO UPDATE SET serial = excluded.serial, customer = excluded.customer,
				added_at = excluded.added_at, recovered_at = excluded.recovered_at`,
			ticketID, d.Name, d.Serial, d.Customer, formatTime(d.AddedAt), formatTimePtr(recovered))
		if err != nil {
			return storeErr(err, "ticket %s: save impacted device %s", ticketID, d.Name)
		}
	}
	return nil
}

func (x *txn) AppendEvents(ctx context.Context, ticketID string, evs []ticketing.Event) error {
	for _, e := range evs {
		_, err := x.q.ExecContext(ctx, `INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, from_value, to_value, note, internal, role)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ticketID, e.Seq, formatTime(e.At), e.Actor, string(e.Kind), e.From, e.To, e.Note, e.Internal, e.Role)
		if err != nil {
			return storeErr(err, "ticket %s: append event %d (%s)", ticketID, e.Seq, e.Kind)
		}
	}
	return nil
}

func (x *txn) EnqueueOutbox(ctx context.Context, msgs []ticketing.OutboxMessage) error {
	for _, m := range msgs {
		_, err := x.q.ExecContext(ctx, `INSERT INTO outbox (ticket_id, event_seq, event_id, kind, channel, payload,
			created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
			m.TicketID, m.EventSeq, m.EventID, string(m.Kind), m.Channel, string(m.Payload),
			formatTime(m.CreatedAt), formatTime(m.NextAttemptAt))
		if err != nil {
			return storeErr(err, "enqueue %s for %s", m.EventID, m.Channel)
		}
	}
	return nil
}

// DueOutbox implements ticketing.OutboxStore.
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) ([]ticketing.OutboxMessage, error) {
	return s.DueOutboxChannel(ctx, "", now, limit)
}

// DueOutboxChannel implements ticketing.OutboxStore.
func (s *Store) DueOutboxChannel(ctx context.Context, channel string, now time.Time, limit int) ([]ticketing.OutboxMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT o.id, o.ticket_id, o.event_seq, o.event_id, o.kind, o.channel,
		o.payload, o.created_at, o.attempts, o.next_attempt_at, o.last_error
		FROM outbox o
		WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= ? AND (? = '' OR o.channel = ?)
		  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.ticket_id = o.ticket_id AND p.channel = o.channel
		                  AND p.delivered_at IS NULL AND p.dead_at IS NULL AND p.id < o.id)
		ORDER BY o.next_attempt_at, o.id LIMIT ?`, formatTime(now), channel, channel, limit)
	if err != nil {
		return nil, fmt.Errorf("query due outbox: %w", err)
	}
	defer rows.Close()
	var msgs []ticketing.OutboxMessage
	for rows.Next() {
		var (
			m                      ticketing.OutboxMessage
			kind, payload, created string
			next                   string
		)
		if err := rows.Scan(&m.ID, &m.TicketID, &m.EventSeq, &m.EventID, &kind, &m.Channel,
			&payload, &created, &m.Attempts, &next, &m.LastError); err != nil {
			return nil, fmt.Errorf("scan outbox message: %w", err)
		}
		m.Kind, m.Payload = ticketing.EventKind(kind), json.RawMessage(payload)
		if m.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("outbox message %d: %w", m.ID, err)
		}
		if m.NextAttemptAt, err = parseTime(next); err != nil {
			return nil, fmt.Errorf("outbox message %d: %w", m.ID, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query due outbox: %w", err)
	}
	return msgs, nil
}

// MarkDelivered implements ticketing.OutboxStore.
func (s *Store) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = ''
		WHERE id = ? AND delivered_at IS NULL`, formatTime(at), id)
	if err != nil {
		return fmt.Errorf("mark outbox message %d delivered: %w", id, err)
	}
	return nil
}

// MarkFailed implements ticketing.OutboxStore.
func (s *Store) MarkFailed(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?
		WHERE id = ? AND delivered_at IS NULL`, attempts, formatTime(next), lastErr, id)
	if err != nil {
		return fmt.Errorf("mark outbox message %d failed: %w", id, err)
	}
	return nil
}

// OutboxBacklog implements ticketing.OutboxStore.
func (s *Store) OutboxBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox backlog: %w", err)
	}
	return n, nil
}

// MarkDead implements ticketing.OutboxStore.
func (s *Store) MarkDead(ctx context.Context, id int64, attempts int, at time.Time, lastErr string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE outbox SET attempts = ?, dead_at = ?, last_error = ?
		WHERE id = ? AND delivered_at IS NULL`, attempts, formatTime(at), lastErr, id)
	if err != nil {
		return fmt.Errorf("mark outbox message %d dead: %w", id, err)
	}
	return nil
}

// DeadOutbox implements ticketing.OutboxStore.
func (s *Store) DeadOutbox(ctx context.Context, limit int) ([]ticketing.OutboxMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, ticket_id, event_seq, event_id, kind, channel, created_at,
		attempts, dead_at, last_error FROM outbox WHERE delivered_at IS NULL AND dead_at IS NOT NULL
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("query dead letters: %w", err)
	}
	defer rows.Close()
	msgs := []ticketing.OutboxMessage{}
	for rows.Next() {
		var (
			m                   ticketing.OutboxMessage
			kind, created, dead string
		)
		if err := rows.Scan(&m.ID, &m.TicketID, &m.EventSeq, &m.EventID, &kind, &m.Channel, &created,
			&m.Attempts, &dead, &m.LastError); err != nil {
			return nil, fmt.Errorf("scan dead letter: %w", err)
		}
		m.Kind = ticketing.EventKind(kind)
		if m.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", m.ID, err)
		}
		d, err := parseTime(dead)
		if err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", m.ID, err)
		}
		m.DeadAt = &d
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// RetryDead implements ticketing.OutboxStore.
func (s *Store) RetryDead(ctx context.Context, id int64, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = ?
		WHERE id = ? AND delivered_at IS NULL AND dead_at IS NOT NULL`, formatTime(now), id)
	if err != nil {
		return fmt.Errorf("retry outbox message %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ticketing.Errorf(ticketing.ENOTFOUND, "no dead letter %d", id)
	}
	return nil
}

// storeErr wraps err, turning a constraint violation into ECONFLICT so the
// caller (and an API user) learns it clashed with existing data.
func storeErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var se interface{ Code() int }
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return fmt.Errorf("%w: %w", ticketing.Errorf(ticketing.ECONFLICT, "%s: conflicts with stored data", what), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// PutRecord implements ticketing.RecordStore.
func (s *Store) PutRecord(ctx context.Context, r ticketing.Record) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO records (kind, id, body) VALUES (?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body`, r.Kind, r.ID, string(r.Body))
	if err != nil {
		return storeErr(err, "store %s record %q", r.Kind, r.ID)
	}
	return nil
}

// DeleteRecord implements ticketing.RecordStore.
func (s *Store) DeleteRecord(ctx context.Context, kind, id string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM records WHERE kind = ? AND id = ?`, kind, id)
	if err != nil {
		return false, fmt.Errorf("delete %s record %q: %w", kind, id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Records implements ticketing.RecordStore.
func (s *Store) Records(ctx context.Context, kind string) ([]ticketing.Record, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, body FROM records WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		return nil, fmt.Errorf("query %s records: %w", kind, err)
	}
	defer rows.Close()
	var out []ticketing.Record
	for rows.Next() {
		r := ticketing.Record{Kind: kind}
		var body string
		if err := rows.Scan(&r.ID, &body); err != nil {
			return nil, fmt.Errorf("read %s record: %w", kind, err)
		}
		r.Body = []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}
