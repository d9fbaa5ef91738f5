package ticketing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Sender delivers one outbox message to one channel (webhook, email, ITSM).
// It must be safe to call again with the same message: delivery is
// at-least-once, and msg.EventID is the receiver's idempotency key.
type Sender interface {
	Send(ctx context.Context, msg OutboxMessage) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, msg OutboxMessage) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, msg OutboxMessage) error { return f(ctx, msg) }

// DispatcherOptions configure a Dispatcher. Zero values take the defaults.
type DispatcherOptions struct {
	Now          func() time.Time // default time.Now
	Logger       *slog.Logger     // default slog.Default()
	PollInterval time.Duration    // default 1s
	BatchSize    int              // messages per poll; default 50
	SendTimeout  time.Duration    // per message; default 10s
	MinBackoff   time.Duration    // after the first failure; default 1s
	MaxBackoff   time.Duration    // cap; default 5m
	Rand         func() float64   // jitter source in [0,1); default math/rand/v2
	// MaxAttempts turns a message into a dead letter after this many
	// failed attempts; default 20 (about a day at the default backoff).
	MaxAttempts int
}

// ErrPermanent marks a Sender's error that no retry can fix (an SMTP 5xx
// reply, a webhook's 4xx other than 408 and 429): the message becomes a
// dead letter at once. Wrap it with %w.
var ErrPermanent = errors.New("permanent delivery failure")

// Dispatcher delivers outbox messages through Senders, retrying failures
// with capped, jittered exponential backoff. A receiver that is down delays
// delivery, never loses it: a message stays in the outbox until a Sender
// accepts it.
//
// Delivery is at-least-once. A message is marked delivered after its Sender
// returns nil; a crash (or a failed mark) between the two re-sends it after
// restart, with the same Idempotency-Key, so receivers must dedupe by it.
//
// One Dispatcher per store: two dispatchers on the same outbox would each
// send the same due messages. (Scale-out on PostgreSQL will claim rows.)
type Dispatcher struct {
	store   OutboxStore
	senders map[string]Sender
	o       DispatcherOptions
	wakes   map[string]chan struct{} // one per channel worker
}

// NewDispatcher returns a Dispatcher delivering messages of each channel
// through senders[channel]. A message for a channel without a Sender stays
// queued and is retried, so a configuration fix delivers it.
func NewDispatcher(store OutboxStore, senders map[string]Sender, opts DispatcherOptions) *Dispatcher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 50
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 10 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(5*time.Minute, opts.MinBackoff)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 20
	}
	s := make(map[string]Sender, len(senders))
	wakes := make(map[string]chan struct{}, len(senders))
	for k, v := range senders {
		s[k], wakes[k] = v, make(chan struct{}, 1)
	}
	return &Dispatcher{store: store, senders: s, o: opts, wakes: wakes}
}

// Backoff is the delay before retry number attempt (1 for the first retry):
// min·2^(attempt-1) capped at max, with "equal jitter" so the delay lies in
// [d/2, d): retries of many messages spread out yet never come sooner than
// half the nominal delay. r is a random number in [0,1).
func Backoff(attempt int, minD, maxD time.Duration, r float64) time.Duration {
	d := minD
	for i := 1; i < attempt && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	half := d / 2
	return half + time.Duration(float64(d-half)*r)
}

// Wake asks a running Dispatcher to poll now instead of at its next tick,
// e.g. right after Ingest queued a notice. It never blocks.
func (d *Dispatcher) Wake() {
	for _, w := range d.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run delivers due messages until ctx is done: one worker per channel,
// each polling every PollInterval (or on Wake), so that a channel that is
// down or slow (an SMTP server timing out with a backlog) never delays
// another's notices. Store and send errors are logged and retried, never
// fatal; a worker whose store writes fail (a full disk) backs off instead
// of sending the same message again every poll.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for ch := range d.senders {
		wg.Go(func() { d.runChannel(ctx, ch) })
	}
	wg.Wait()
}

func (d *Dispatcher) runChannel(ctx context.Context, ch string) {
	t := time.NewTimer(0)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wakes[ch]:
		}
		wait := d.o.PollInterval
		if _, err := d.deliver(ctx, ch); err != nil && ctx.Err() == nil {
			failures++
			wait = max(wait, Backoff(failures, d.o.MinBackoff, d.o.MaxBackoff, d.o.Rand()))
			d.o.Logger.Error("outbox pass failed", "channel", ch, "err", err, "retry_in", wait)
		} else {
			failures = 0
		}
		t.Reset(wait)
	}
}

// DeliverDue makes one pass over the due messages of every channel and
// returns how many were delivered. After a failure on a channel the rest of
// that channel's batch waits for the next pass, so a receiver that is down
// costs one timeout per pass, not one per message.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	return d.deliver(ctx, "")
}

// deliver makes one pass over channel's due messages ("" for all).
func (d *Dispatcher) deliver(ctx context.Context, channel string) (int, error) {
	msgs, err := d.store.DueOutboxChannel(ctx, channel, d.o.Now(), d.o.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("read due outbox: %w", err)
	}
	delivered := 0
	down := map[string]bool{}
	for _, m := range msgs {
		if down[m.Channel] {
			continue
		}
		sendErr := d.send(ctx, m)
		if ctx.Err() != nil {
			// Shutting down: an interrupted send is not the receiver's fault.
			return delivered, ctx.Err()
		}
		log := d.o.Logger.With("ticket", m.TicketID, "event_id", m.EventID, "channel", m.Channel)
		if sendErr == nil {
			if err := d.store.MarkDelivered(ctx, m.ID, d.o.Now()); err != nil {
				// It will be sent again; the receiver dedupes by event id.
				return delivered, fmt.Errorf("mark outbox message %d (%s) delivered: %w", m.ID, m.EventID, err)
			}
			delivered++
			log.Debug("notice delivered", "attempts", m.Attempts+1)
			continue
		}
		attempts := m.Attempts + 1
		if errors.Is(sendErr, ErrPermanent) || attempts >= d.o.MaxAttempts {
			// Retrying cannot help: a person looks at it (nocagent outbox
			// list|retry), and the ticket's later notices go on.
			if err := d.store.MarkDead(ctx, m.ID, attempts, d.o.Now(), sendErr.Error()); err != nil {
				return delivered, fmt.Errorf("record dead letter %d (%s): %w", m.ID, m.EventID, err)
			}
			log.Error("notice not delivered: dead letter", "attempts", attempts, "err", sendErr)
			continue
		}
		down[m.Channel] = true
		next := d.o.Now().Add(Backoff(attempts, d.o.MinBackoff, d.o.MaxBackoff, d.o.Rand()))
		if err := d.store.MarkFailed(ctx, m.ID, attempts, next, sendErr.Error()); err != nil {
			return delivered, fmt.Errorf("record failed delivery of outbox message %d (%s): %w", m.ID, m.EventID, err)
		}
		log.Warn("notice delivery failed, will retry", "attempts", attempts, "next_attempt_at", next, "err", sendErr)
	}
	return delivered, nil
}

func (d *Dispatcher) send(ctx context.Context, m OutboxMessage) error {
	s, ok := d.senders[m.Channel]
	if !ok {
		return fmt.Errorf("no sender configured for channel %q", m.Channel)
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.SendTimeout)
	defer cancel()
	if err := s.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s via %s: %w", m.EventID, m.Channel, err)
	}
	return nil
}

// Backlog counts undelivered messages; export it as a metric.
func (d *Dispatcher) Backlog(ctx context.Context) (int, error) {
	n, err := d.store.OutboxBacklog(ctx)
	if err != nil {
		return 0, fmt.Errorf("count outbox backlog: %w", err)
	}
	return n, nil
}

// DeadLetters lists up to limit dead letters, oldest first.
func (d *Dispatcher) DeadLetters(ctx context.Context, limit int) ([]OutboxMessage, error) {
	return d.store.DeadOutbox(ctx, limit)
}

// Retry makes dead letter id due now; its channel's worker sends it.
func (d *Dispatcher) Retry(ctx context.Context, id int64) error {
	if err := d.store.RetryDead(ctx, id, d.o.Now()); err != nil {
		return err
	}
	d.Wake()
	return nil
}
