package ticketing

import (
	"context"
	"encoding/json"
	"time"
)

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Filter selects tickets for List. Zero fields do not filter.
type Filter struct {
	State    State
	Priority Priority
	Customer string // DeviceContext.Customer
	// Affecting selects tickets whose device or one of whose impacted
	// devices belongs to this customer: what a customer may see.
	Affecting string
	Device    string // DeviceContext.Name
	Open      bool   // only tickets in OpenStates
	Limit     int    // 0 means DefaultListLimit
	Assignee  string
	// Active selects tickets in OpenStates or resolved: those Tick watches.
	Active bool
	// OpenedFrom and OpenedTo bound OpenedAt to [from, to) when not zero.
	OpenedFrom, OpenedTo time.Time
	// WithTimeline loads each ticket's timeline too.
	WithTimeline bool
}

// Store is the storage a Service needs. It holds no domain logic: every
// decision is taken by Service, so a PostgreSQL store only implements storage.
// Implementations: ticketing/sqlite.
type Store interface {
	// WithTx runs fn in one write transaction, committed when fn returns nil
	// and rolled back otherwise. Writes to a ticket, its evidence, its events
	// and its outbox messages made through tx are atomic.
	WithTx(ctx context.Context, fn func(tx Tx) error) error
	// TicketByID returns the ticket with its evidence, impacted devices and
	// timeline, or an ENOTFOUND error. Every ticket a Store or Tx returns
	// carries its impacted devices.
	TicketByID(ctx context.Context, id string) (Ticket, error)
	// ListTickets returns the tickets matching f, newest first, with their
	// evidence, and their timeline if f.WithTimeline. f is already validated.
	ListTickets(ctx context.Context, f Filter) ([]Ticket, error)
	// Problems returns problem records, newest first, with their ticket ids.
	Problems(ctx context.Context, state string) ([]Problem, error)
	// Articles returns up to limit knowledge-base articles, newest first.
	Articles(ctx context.Context, limit int) ([]Article, error)
	// Surveys returns the surveys answered in [from, to) (zero bounds do
	// not filter) for customer ("" for all).
	Surveys(ctx context.Context, customer string, from, to time.Time) ([]Survey, error)
	OutboxStore
}

// Tx is one write transaction. Tickets it returns carry evidence and timeline.
type Tx interface {
	TicketByID(ctx context.Context, id string) (Ticket, error)
	// OpenTicketByKey returns the ticket with this dedup key in an open state.
	OpenTicketByKey(ctx context.Context, key string) (t Ticket, ok bool, err error)
	// LatestTicketByKey returns the most recently opened ticket with this
	// dedup key, whatever its state.
	LatestTicketByKey(ctx context.Context, key string) (t Ticket, ok bool, err error)
	// IdempotentTicket returns the ticket created under (scope, key) and
	// the fingerprint of the request that created it; it holds (scope,
	// key) until the transaction ends, so that a concurrent retry waits.
	IdempotentTicket(ctx context.Context, scope, key string) (ticketID, fingerprint string, ok bool, err error)
	// PutIdempotencyKey records that (scope, key) created ticketID.
	PutIdempotencyKey(ctx context.Context, scope, key, fingerprint, ticketID string, at time.Time) error
	// NextTicketSeq returns the number of the next ticket; numbers are never
	// reused.
	NextTicketSeq(ctx context.Context) (int64, error)
	// CreateTicket stores a new ticket's row (not its evidence or timeline).
	// A second open ticket for the same dedup key is an ECONFLICT error.
	CreateTicket(ctx context.Context, seq int64, t Ticket) error
	// UpdateTicket stores the mutable fields of an existing ticket's row.
	UpdateTicket(ctx context.Context, t Ticket) error
	// AddEvidence stores e on the ticket and returns its id.
	AddEvidence(ctx context.Context, ticketID string, e Evidence) (int64, error)
	// RefireEvidence marks cleared evidence id as firing again with e's
	// reading, and counts the firing.
	RefireEvidence(ctx context.Context, ticketID string, id int64, e Evidence) error
	// ClearEvidence marks evidence id as no longer firing since at.
	ClearEvidence(ctx context.Context, ticketID string, id int64, at time.Time) error
	// SaveImpacted stores ds as the ticket's impacted devices, replacing
	// the stored entries with the same device name; others are kept.
	SaveImpacted(ctx context.Context, ticketID string, ds []ImpactedDevice) error
	// AppendEvents appends events to the ticket's timeline. Events are never
	// updated or deleted.
	AppendEvents(ctx context.Context, ticketID string, evs []Event) error
	// EnqueueOutbox stores messages for the Dispatcher.
	EnqueueOutbox(ctx context.Context, msgs []OutboxMessage) error
	// OpenLoads counts open tickets per assignee.
	OpenLoads(ctx context.Context) (map[string]int, error)
	// TicketIDsByFingerprint returns the ids of tickets with fingerprint fp
	// opened at or after since, oldest first.
	TicketIDsByFingerprint(ctx context.Context, fp string, since time.Time) ([]string, error)
	// OpenProblemByFingerprint returns the open problem record for fp.
	OpenProblemByFingerprint(ctx context.Context, fp string) (p Problem, ok bool, err error)
	// NextProblemSeq returns the number of the next problem record.
	NextProblemSeq(ctx context.Context) (int64, error)
	// CreateProblem stores a new problem record (not its ticket links,
	// which are each ticket's ProblemID). A second open problem for one
	// fingerprint is an ECONFLICT error.
	CreateProblem(ctx context.Context, seq int64, p Problem) error
	// AddSurvey stores a survey answer; a second one for the same ticket is
	// an ECONFLICT error.
	AddSurvey(ctx context.Context, sv Survey) error
	// AddArticle stores a knowledge-base article and returns its id.
	AddArticle(ctx context.Context, a Article) (int64, error)
}

// OutboxStore is the storage a Dispatcher needs.
type OutboxStore interface {
	// DueOutbox returns up to limit undelivered messages whose next attempt
	// is due at now, oldest first, and at most the oldest undelivered message
	// per (ticket, channel), so a receiver sees a ticket's events in order.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxMessage, error)
	// DueOutboxChannel is DueOutbox for one channel ("" for all), so that
	// each channel is worked on its own and a failing one holds up no other.
	DueOutboxChannel(ctx context.Context, channel string, now time.Time, limit int) ([]OutboxMessage, error)
	// MarkDead records that a message will not be retried (a permanent
	// refusal, or too many attempts): it waits for RetryDead, and no longer
	// holds back the messages after it.
	MarkDead(ctx context.Context, id int64, attempts int, at time.Time, lastErr string) error
	// DeadOutbox lists dead letters, oldest first.
	DeadOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)
	// RetryDead makes a dead letter due again at now, with its attempts
	// reset; ENOTFOUND when id is no dead letter.
	RetryDead(ctx context.Context, id int64, now time.Time) error
	// MarkDelivered records that message id was delivered at at; it is never
	// returned by DueOutbox again.
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// MarkFailed records a failed attempt and when to try again.
	MarkFailed(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error
	// OutboxBacklog counts undelivered messages.
	OutboxBacklog(ctx context.Context) (int, error)
}

// OutboxMessage is one notice about one ticket event for one channel.
type OutboxMessage struct {
	ID            int64           `json:"id"`
	TicketID      string          `json:"ticket_id"`
	EventSeq      int             `json:"event_seq"`
	EventID       string          `json:"event_id"` // stable: the receiver's idempotency key
	Kind          EventKind       `json:"kind"`
	Channel       string          `json:"channel"`
	Payload       json.RawMessage `json:"payload"` // a Notice, fixed when the event happened
	CreatedAt     time.Time       `json:"created_at"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt time.Time       `json:"next_attempt_at"`
	DeliveredAt   *time.Time      `json:"delivered_at,omitempty"`
	DeadAt        *time.Time      `json:"dead_at,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
}

// Notice is the payload of an OutboxMessage: what a receiver gets.
type Notice struct {
	Event   EventKind `json:"event"`
	EventID string    `json:"event_id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor,omitempty"`
	Note    string    `json:"note,omitempty"`
	// Recipients narrow who the notice is for ("engineer:alice", "tier:L2",
	// "manager:bob"); empty means whoever the channel reaches.
	Recipients []string `json:"recipients,omitempty"`
	Ticket     Ticket   `json:"ticket"` // without timeline, with its SLA position
	// ConfirmURL, on a resolution notice to a ticket with a customer when
	// confirmation links are configured, is the path (ConfirmPathPrefix +
	// token) at which the customer confirms; prefix the public base URL.
	ConfirmURL string `json:"confirm_url,omitempty"`
}

// Record is one stored decision of kind (a maintenance window, ...) as the
// JSON its owner wrote.
type Record struct {
	Kind, ID string
	Body     []byte
}

// RecordStore keeps decisions made outside tickets across restarts.
type RecordStore interface {
	// PutRecord stores r, replacing the record of the same kind and id.
	PutRecord(ctx context.Context, r Record) error
	// DeleteRecord removes a record and reports whether there was one.
	DeleteRecord(ctx context.Context, kind, id string) (bool, error)
	// Records returns every record of kind, by id.
	Records(ctx context.Context, kind string) ([]Record, error)
}
