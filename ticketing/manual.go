package ticketing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Intake channels of a manual ticket. "survey" is used for follow-up tasks
// opened by an unsatisfied survey.
var Channels = []string{"phone", "email", "portal", "chat"}

// ManualInput is a request raised by a person (phone, email, portal, chat).
type ManualInput struct {
	Customer      string     `json:"customer"`
	Contact       string     `json:"contact"`
	Device        string     `json:"device"`
	Symptom       string     `json:"symptom"`
	OnsetAt       *time.Time `json:"onset_at,omitempty"`
	RecentChanges string     `json:"recent_changes,omitempty"`
	Channel       string     `json:"channel"`
	Category      string     `json:"category"`
	Priority      Priority   `json:"priority"`
	Title         string     `json:"title,omitempty"` // default: the symptom's first line
	Contract      string     `json:"contract,omitempty"`
}

// CreateManual opens a ticket from a person's request. A customer may open
// tickets only for itself (customer may then be left out). The device's
// context comes from Options.Devices when it knows the device.
//
// Errors: EUNAUTHORIZED for an incomplete actor; EINVALID naming a missing
// or bad field; EFORBIDDEN for a customer opening another's ticket or for
// the monitoring and system actors.
func (s *Service) CreateManual(ctx context.Context, a Actor, in ManualInput) (Ticket, error) {
	t, _, err := s.CreateManualOnce(ctx, a, in, "")
	return t, err
}

// MaxIdempotencyKey bounds an Idempotency-Key.
const MaxIdempotencyKey = 255

// CreateManualOnce is CreateManual under an idempotency key (the API's
// Idempotency-Key header; "" for none): the same person sending the same
// request with the same key gets the ticket the first one created, with
// replayed set, however often the answer was lost. The key with another
// request is ECONFLICT.
func (s *Service) CreateManualOnce(ctx context.Context, a Actor, in ManualInput, key string) (_ Ticket, replayed bool, _ error) {
	if err := a.validate(); err != nil {
		return Ticket{}, false, err
	}
	if len(key) > MaxIdempotencyKey || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Ticket{}, false, Errorf(EINVALID, "invalid Idempotency-Key: at most %d printable characters", MaxIdempotencyKey)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return Ticket{}, false, fmt.Errorf("idempotency fingerprint: %w", err)
	}
	sum := sha256.Sum256(body)
	fingerprint := hex.EncodeToString(sum[:])
	t, replayed, err := s.createManual(ctx, a, in, key, fingerprint)
	return t, replayed, err
}

func (s *Service) createManual(ctx context.Context, a Actor, in ManualInput, key, fingerprint string) (Ticket, bool, error) {
	if !a.Role.Person() {
		return Ticket{}, false, Errorf(EFORBIDDEN, "role %s may not open manual tickets", a.Role)
	}
	if a.Role == RoleCustomer {
		if in.Customer != "" && in.Customer != a.Customer {
			return Ticket{}, false, Errorf(EFORBIDDEN, "customer %s may not open tickets for customer %s", a.Customer, in.Customer)
		}
		in.Customer = a.Customer
	}
	dev, err := s.manualDevice(in)
	if err != nil {
		return Ticket{}, false, err
	}
	var t Ticket
	replayed := false
	scope := string(a.Role) + ":" + a.Name
	err = s.store.WithTx(ctx, func(tx Tx) error {
		now := s.now().UTC()
		if key != "" {
			id, fp, ok, err := tx.IdempotentTicket(ctx, scope, key)
			switch {
			case err != nil:
				return err
			case ok && fp != fingerprint:
				return Errorf(ECONFLICT, "Idempotency-Key %.40q was used for another request (ticket %s)", key, id)
			case ok:
				replayed = true
				t, err = tx.TicketByID(ctx, id)
				return err
			}
		}
		if in.OnsetAt != nil && in.OnsetAt.After(now) {
			return Errorf(EINVALID, "invalid field \"onset_at\": %s is in the future", in.OnsetAt.Format(time.RFC3339))
		}
		var err error
		if t, err = s.openManual(ctx, tx, now, eventActor(a), manualTicket{in: in, dev: dev, role: a.Role}); err != nil {
			return err
		}
		if key != "" {
			return tx.PutIdempotencyKey(ctx, scope, key, fingerprint, t.ID, now)
		}
		return nil
	})
	if err != nil {
		return Ticket{}, false, fmt.Errorf("open manual ticket for %s by %s: %w", in.Customer, a, err)
	}
	if !replayed {
		s.log.LogAttrs(ctx, slog.LevelInfo, "manual ticket opened", slog.String("ticket", t.ID),
			slog.String("customer", in.Customer), slog.String("channel", in.Channel), slog.String("actor", a.Name))
	}
	return s.decorate(t, s.now().UTC()), replayed, nil
}

func (s *Service) manualDevice(in ManualInput) (DeviceContext, error) {
	switch {
	case strings.TrimSpace(in.Customer) == "":
		return DeviceContext{}, missing("customer", "a manual ticket needs the customer")
	case strings.TrimSpace(in.Contact) == "":
		return DeviceContext{}, missing("contact", "a manual ticket needs who to call back")
	case strings.TrimSpace(in.Symptom) == "":
		return DeviceContext{}, missing("symptom", "a manual ticket needs the symptom")
	case in.Channel == "":
		return DeviceContext{}, missing("channel", "want one of "+strings.Join(Channels, ", "))
	case strings.TrimSpace(in.Category) == "":
		return DeviceContext{}, missing("category", "a manual ticket needs a category (hardware, configuration, link, security, performance...)")
	case strings.Contains(in.Category, "/"):
		return DeviceContext{}, Errorf(EINVALID, "invalid field \"category\": %q contains '/'", in.Category)
	case in.Priority == "":
		return DeviceContext{}, missing("priority", "want P1..P4")
	case !in.Priority.Valid():
		return DeviceContext{}, Errorf(EINVALID, "invalid field \"priority\": %q: want P1..P4", in.Priority)
	}
	if !slices.Contains(Channels, in.Channel) {
		return DeviceContext{}, Errorf(EINVALID, "invalid field \"channel\": %q: want one of %s", in.Channel, strings.Join(Channels, ", "))
	}
	if len(s.categories) > 0 && !slices.Contains(s.categories, in.Category) {
		return DeviceContext{}, Errorf(EINVALID, "invalid field \"category\": %.40q: want one of %s", in.Category, strings.Join(s.categories, ", "))
	}
	if s.customers != nil {
		contract, ok := s.customers(in.Customer)
		switch {
		case !ok:
			return DeviceContext{}, Errorf(EINVALID, "invalid field \"customer\": %.40q is not a configured customer", in.Customer)
		case in.Contract != "" && in.Contract != contract:
			return DeviceContext{}, Errorf(EINVALID, "invalid field \"contract\": %.40q is not the contract of customer %s", in.Contract, in.Customer)
		}
	}
	dev := DeviceContext{Name: strings.TrimSpace(in.Device), Customer: in.Customer, Contract: in.Contract}
	if dev.Name != "" && s.devices != nil {
		if d, ok := s.devices(dev.Name); ok {
			if d.Customer != "" && d.Customer != in.Customer {
				return DeviceContext{}, Errorf(EINVALID, "invalid field \"device\": %s does not belong to customer %s", dev.Name, in.Customer)
			}
			d.Customer = in.Customer
			if in.Contract != "" {
				d.Contract = in.Contract
			}
			dev = d
		}
	}
	return dev, nil
}

type manualTicket struct {
	in       ManualInput
	dev      DeviceContext
	channel  string // overrides in.Channel (follow-up tasks)
	dueAt    *time.Time
	parentID string
	assignee string // set instead of auto-assignment
	role     Role   // of the person opening it
}

// openManual creates a manual ticket in tx. Manual tickets do not take part
// in the one-open-ticket-per-(device, category) rule: a person may report
// what monitoring already sees, and merging is the engineer's call.
func (s *Service) openManual(ctx context.Context, tx Tx, now time.Time, who string, m manualTicket) (Ticket, error) {
	seq, err := tx.NextTicketSeq(ctx)
	if err != nil {
		return Ticket{}, err
	}
	in := m.in
	channel := in.Channel
	if m.channel != "" {
		channel = m.channel
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title, _, _ = strings.Cut(strings.TrimSpace(in.Symptom), "\n")
	}
	id := fmt.Sprintf("%s-%06d", s.prefix, seq)
	var onset *time.Time
	if in.OnsetAt != nil {
		o := in.OnsetAt.UTC()
		onset = &o
	}
	t := Ticket{
		ID: id, Title: title, Priority: in.Priority, State: StateNew, Category: in.Category,
		Source: SourceManual, DedupKey: "manual:" + id, Device: m.dev, OpenedAt: now, Tier: 1,
		DueAt: m.dueAt, ParentID: m.parentID,
		Intake: &Intake{Channel: channel, Contact: in.Contact, Symptom: in.Symptom, OnsetAt: onset, RecentChanges: in.RecentChanges},
	}
	c := &change{t: &t, seq: seq}
	c.event(now, who, KindOpened, "", string(StateNew), fmt.Sprintf("%s via %s", in.Symptom, channel)).Role = m.role
	c.t.Timeline[len(c.t.Timeline)-1].Role = m.role
	if m.assignee != "" {
		c.event(now, ActorSystem, KindAssigned, "", m.assignee, "supervisor of survey follow-ups")
		c.notify("manager:" + m.assignee)
		t.Assignee = m.assignee
	} else if err := s.autoAssign(ctx, tx, now, c, 1, ""); err != nil {
		return Ticket{}, err
	}
	return s.write(ctx, tx, now, c)
}
