package ticketing

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Article is a knowledge-base entry made from an engineer's resolution.
type Article struct {
	ID        int64     `json:"id"`
	TicketID  string    `json:"ticket_id"`
	Category  string    `json:"category"`
	Rule      string    `json:"rule,omitempty"`
	Vendor    string    `json:"vendor,omitempty"`
	Model     string    `json:"model,omitempty"`
	Title     string    `json:"title"`
	Cause     string    `json:"cause"`
	Solution  string    `json:"solution"`
	CreatedAt time.Time `json:"created_at"`
}

// Suggestion is an article with how well it matches.
type Suggestion struct {
	Article Article `json:"article"`
	Score   float64 `json:"score"`
}

// maxArticlesScanned bounds one search. Scoring in Go keeps SQLite and
// PostgreSQL identical; past this size a full-text index should take over.
const maxArticlesScanned = 5000

func articleFrom(t Ticket, now time.Time) *Article {
	a := &Article{TicketID: t.ID, Category: t.Category, Vendor: t.Device.Vendor, Model: t.Device.Model,
		Title: t.Title, Cause: t.Cause, Solution: t.Solution, CreatedAt: now}
	if len(t.Evidence) > 0 {
		a.Rule = t.Evidence[0].Rule
	}
	return a
}

// terms splits text into lower-case words of 3+ letters or digits, the unit
// of matching; CJK text has no spaces, so each Han character is a term.
func terms(text string) map[string]bool {
	out := map[string]bool{}
	var b strings.Builder
	flush := func() {
		if w := b.String(); len([]rune(w)) >= 3 {
			out[w] = true
		}
		b.Reset()
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			out[string(r)] = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

func (a Article) terms() map[string]bool {
	return terms(strings.Join([]string{a.Title, a.Cause, a.Solution, a.Category, a.Vendor, a.Model}, " "))
}

// match scores article a against query terms q and a context ticket (nil
// for a plain search): one point per shared term, plus 3 for the same rule,
// 2 for the same category, 2 for the same model and 1 for the same vendor.
// An article sharing neither a word nor the rule is not similar, however
// alike the hardware: ok is false then.
func match(a Article, q map[string]bool, ctxTicket *Ticket) (score float64, ok bool) {
	at := a.terms()
	for w := range q {
		if at[w] {
			score++
		}
	}
	ok = score > 0
	if ctxTicket != nil {
		t := ctxTicket
		if len(t.Evidence) > 0 && a.Rule != "" && a.Rule == t.Evidence[0].Rule {
			score += 3
			ok = true
		}
		if a.Category == t.Category {
			score += 2
		}
		if a.Model != "" && a.Model == t.Device.Model {
			score += 2
		}
		if a.Vendor != "" && a.Vendor == t.Device.Vendor {
			score++
		}
	}
	return score, ok
}

func rank(as []Article, q map[string]bool, ctxTicket *Ticket, limit int) []Suggestion {
	out := []Suggestion{}
	for _, a := range as {
		if ctxTicket != nil && a.TicketID == ctxTicket.ID {
			continue
		}
		if sc, ok := match(a, q, ctxTicket); ok {
			out = append(out, Suggestion{Article: a, Score: sc})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func staffOnly(a Actor, what string) error {
	if err := a.validate(); err != nil {
		return err
	}
	if !a.Role.staff() {
		return Errorf(EFORBIDDEN, "role %s may not %s", a.Role, what)
	}
	return nil
}

// SearchKB returns up to limit articles matching q, best first. Staff only:
// articles come from every customer's tickets.
func (s *Service) SearchKB(ctx context.Context, a Actor, q string, limit int) ([]Suggestion, error) {
	if err := staffOnly(a, "search the knowledge base"); err != nil {
		return nil, err
	}
	qt := terms(q)
	if len(qt) == 0 {
		return nil, Errorf(EINVALID, "invalid value %q for q: want at least one word of 3+ letters", q)
	}
	as, err := s.store.Articles(ctx, maxArticlesScanned)
	if err != nil {
		return nil, fmt.Errorf("search knowledge base: %w", err)
	}
	return rank(as, qt, nil, clampLimit(limit)), nil
}

// Similar returns up to limit past resolutions most like ticket id: shared
// words of title and symptoms, same rule, category, model and vendor.
func (s *Service) Similar(ctx context.Context, a Actor, id string, limit int) ([]Suggestion, error) {
	if err := staffOnly(a, "read the knowledge base"); err != nil {
		return nil, err
	}
	t, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	text := []string{t.Title}
	for _, e := range t.Evidence {
		text = append(text, e.Summary) // rules are matched whole, not as words
	}
	if t.Intake != nil {
		text = append(text, t.Intake.Symptom)
	}
	as, err := s.store.Articles(ctx, maxArticlesScanned)
	if err != nil {
		return nil, fmt.Errorf("similar resolutions for %s: %w", id, err)
	}
	return rank(as, terms(strings.Join(text, " ")), &t, clampLimit(limit)), nil
}

func clampLimit(n int) int {
	if n <= 0 {
		return 5
	}
	return min(n, 50)
}
