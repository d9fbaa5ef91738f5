package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
	"github.com/nocagent/nocagent/ticketing"
	"github.com/nocagent/nocagent/ticketing/notice"
)

// sinkSender delivers ticket events to an external ITSM through a
// TicketSink plugin, from the same outbox as every notice: an ITSM that is
// down delays the push, never loses it.
type sinkSender struct {
	a      *Agent
	plugin string
}

func (s *sinkSender) Send(ctx context.Context, msg ticketing.OutboxMessage) error {
	if s.a.plugins == nil {
		return fmt.Errorf("ticket sink %s: plugins not started yet", s.plugin)
	}
	n, err := notice.Decode(msg.Payload)
	if err != nil {
		return fmt.Errorf("ticket sink %s: %w", s.plugin, err)
	}
	sink, err := s.a.plugins.TicketSink(s.plugin)
	if err != nil {
		return err
	}
	t := n.Ticket
	desc := strings.TrimSpace(n.Note)
	if desc == "" {
		desc = t.Title
	}
	key, err := sink.Push(ctx, plugins.SinkTicket{
		ID: t.ID, Title: t.Title, Description: desc, Priority: string(t.Priority), Category: t.Category,
		State: string(t.State), Customer: t.Device.Customer, Contract: t.Device.Contract, Site: t.Device.SiteName,
		Device: t.Device.Name, Model: t.Device.Model, Serial: t.Device.Serial, UpdatedAt: t.UpdatedAt,
	})
	if key != "" {
		s.a.log.Info("ticket pushed to ITSM", "ticket", t.ID, "sink", s.plugin, "external_id", key)
	}
	if err != nil && (errors.Is(err, plugins.ErrInvalid) || errors.Is(err, plugins.ErrRefused)) {
		// The ITSM will never take this one; retrying would block the
		// ticket's later events on this channel.
		s.a.log.Error("ticket sink refused the ticket", "ticket", t.ID, "sink", s.plugin, "err", err)
		return nil
	}
	return err
}

// pullSinks applies what people changed in the ITSM every minute: each
// change lands on the ticket's timeline, and an acknowledgement there
// acknowledges the ticket here.
func (a *Agent) pullSinks(ctx context.Context) {
	var names []string
	for _, n := range a.config().Notifiers {
		if n.Kind == inventory.NotifierITSM {
			names = append(names, n.Plugin)
		}
	}
	if len(names) == 0 {
		return
	}
	every(ctx, time.Minute, true, func() {
		for _, name := range names {
			a.pullSink(ctx, name)
		}
	})
}

func (a *Agent) pullSink(ctx context.Context, name string) {
	mark := filepath.Join(a.dataDir, "sink-"+name+".since")
	since := a.now().Add(-24 * time.Hour)
	if b, err := os.ReadFile(mark); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err == nil {
			since = t
		}
	}
	sink, err := a.plugins.TicketSink(name)
	if err != nil {
		a.log.Warn("ticket sink pull", "sink", name, "err", err)
		return
	}
	changes, err := sink.Pull(ctx, since)
	if err != nil {
		a.log.Warn("ticket sink pull", "sink", name, "err", err)
		return
	}
	for _, c := range changes {
		note := fmt.Sprintf("%s %s", name, c.ExternalID)
		if c.State != "" {
			note += ": state " + c.State
		}
		if c.Note != "" {
			note += ": " + c.Note
		}
		actor := "itsm:" + name
		if c.Actor != "" {
			actor += "/" + c.Actor
		}
		if err := a.tickets.Record(ctx, c.TicketID, actor, ticketing.KindITSM, note); err != nil {
			a.log.Warn("ticket sink change", "sink", name, "ticket", c.TicketID, "err", err)
			continue
		}
		if ticketing.State(c.State) == ticketing.StateAcknowledged || ticketing.State(c.State) == ticketing.StateInProgress {
			if _, err := a.tickets.Act(ctx, ticketing.Actor{Name: actor, Role: ticketing.RoleEngineer}, c.TicketID, ticketing.ActAck,
				ticketing.ActionInput{Note: "acknowledged in " + name}); err != nil {
				a.log.Info("ticket sink acknowledgement not applied", "ticket", c.TicketID, "err", err)
			}
		}
		since = c.At
	}
	if len(changes) > 0 {
		_ = os.WriteFile(mark, []byte(since.Format(time.RFC3339Nano)), 0o600)
	}
}
