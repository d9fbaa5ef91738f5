package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// tierOf stores tier 1 for tickets built before tiers existed (zero value).
func tierOf(t ticketing.Ticket) int { return max(t.Tier, 1) }

func (x *txn) OpenLoads(ctx context.Context) (map[string]int, error) {
	rows, err := x.q.QueryContext(ctx, `SELECT assignee, COUNT(*) FROM tickets
		WHERE assignee != '' AND `+openStatesSQL+` GROUP BY assignee`)
	if err != nil {
		return nil, fmt.Errorf("count open tickets per assignee: %w", err)
	}
	defer rows.Close()
	loads := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("count open tickets per assignee: %w", err)
		}
		loads[name] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count open tickets per assignee: %w", err)
	}
	return loads, nil
}

func (x *txn) TicketIDsByFingerprint(ctx context.Context, fp string, since time.Time) ([]string, error) {
	rows, err := x.q.QueryContext(ctx, `SELECT id FROM tickets WHERE fingerprint = ? AND opened_at >= ? ORDER BY seq`,
		fp, formatTime(since))
	if err != nil {
		return nil, fmt.Errorf("tickets of fingerprint %s: %w", fp, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("tickets of fingerprint %s: %w", fp, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets of fingerprint %s: %w", fp, err)
	}
	return ids, nil
}

const problemColumns = `SELECT id, fingerprint, title, state, opened_at FROM problems`

func queryProblems(ctx context.Context, q querier, query string, args ...any) ([]ticketing.Problem, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query problems: %w", err)
	}
	var ps []ticketing.Problem
	for rows.Next() {
		var p ticketing.Problem
		var opened string
		if err := rows.Scan(&p.ID, &p.Fingerprint, &p.Title, &p.State, &opened); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan problem: %w", err)
		}
		if p.OpenedAt, err = parseTime(opened); err != nil {
			rows.Close()
			return nil, fmt.Errorf("problem %s: %w", p.ID, err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query problems: %w", err)
	}
	for i := range ps {
		ids, err := stringColumn(ctx, q, `SELECT id FROM tickets WHERE problem_id = ? ORDER BY seq`, ps[i].ID)
		if err != nil {
			return nil, fmt.Errorf("tickets of problem %s: %w", ps[i].ID, err)
		}
		ps[i].TicketIDs = ids
	}
	return ps, nil
}

func stringColumn(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (x *txn) OpenProblemByFingerprint(ctx context.Context, fp string) (ticketing.Problem, bool, error) {
	ps, err := queryProblems(ctx, x.q, problemColumns+` WHERE fingerprint = ? AND state = 'open'`, fp)
	if err != nil || len(ps) == 0 {
		return ticketing.Problem{}, false, err
	}
	return ps[0], true, nil
}

func (x *txn) NextProblemSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := x.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM problems`).Scan(&n); err != nil {
		return 0, fmt.Errorf("next problem number: %w", err)
	}
	return n, nil
}

func (x *txn) CreateProblem(ctx context.Context, seq int64, p ticketing.Problem) error {
	_, err := x.q.ExecContext(ctx, `INSERT INTO problems (seq, id, fingerprint, title, state, opened_at)
		VALUES (?, ?, ?, ?, ?, ?)`, seq, p.ID, p.Fingerprint, p.Title, p.State, formatTime(p.OpenedAt))
	if err != nil {
		return storeErr(err, "create problem %s (%s)", p.ID, p.Fingerprint)
	}
	return nil
}

func (x *txn) AddSurvey(ctx context.Context, sv ticketing.Survey) error {
	_, err := x.q.ExecContext(ctx, `INSERT INTO surveys (ticket_id, customer, rating, comment, actor, at, follow_up_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, sv.TicketID, sv.Customer, string(sv.Rating), sv.Comment, sv.Actor,
		formatTime(sv.At), sv.FollowUpID)
	if err != nil {
		return storeErr(err, "survey of ticket %s (already answered?)", sv.TicketID)
	}
	return nil
}

func (x *txn) AddArticle(ctx context.Context, a ticketing.Article) (int64, error) {
	res, err := x.q.ExecContext(ctx, `INSERT INTO kb_articles (ticket_id, category, rule, vendor, model, title,
		cause, solution, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.TicketID, a.Category, a.Rule, a.Vendor,
		a.Model, a.Title, a.Cause, a.Solution, formatTime(a.CreatedAt))
	if err != nil {
		return 0, storeErr(err, "knowledge-base article of ticket %s", a.TicketID)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("article of ticket %s: id: %w", a.TicketID, err)
	}
	return id, nil
}

// Problems implements ticketing.Store.
func (s *Store) Problems(ctx context.Context, state string) ([]ticketing.Problem, error) {
	var ps []ticketing.Problem
	err := s.view(ctx, func(q querier) error {
		query, args := problemColumns, []any{}
		if state != "" {
			query, args = query+` WHERE state = ?`, append(args, state)
		}
		var err error
		ps, err = queryProblems(ctx, q, query+` ORDER BY seq DESC`, args...)
		return err
	})
	return ps, err
}

// Articles implements ticketing.Store.
func (s *Store) Articles(ctx context.Context, limit int) ([]ticketing.Article, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, ticket_id, category, rule, vendor, model, title, cause, solution,
		created_at FROM kb_articles ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("query articles: %w", err)
	}
	defer rows.Close()
	var as []ticketing.Article
	for rows.Next() {
		var a ticketing.Article
		var at string
		if err := rows.Scan(&a.ID, &a.TicketID, &a.Category, &a.Rule, &a.Vendor, &a.Model, &a.Title, &a.Cause,
			&a.Solution, &at); err != nil {
			return nil, fmt.Errorf("scan article: %w", err)
		}
		if a.CreatedAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("article %d: %w", a.ID, err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query articles: %w", err)
	}
	return as, nil
}

// Surveys implements ticketing.Store.
func (s *Store) Surveys(ctx context.Context, customer string, from, to time.Time) ([]ticketing.Survey, error) {
	query, args := `SELECT ticket_id, customer, rating, comment, actor, at, follow_up_id FROM surveys WHERE 1 = 1`, []any{}
	if customer != "" {
		query, args = query+` AND customer = ?`, append(args, customer)
	}
	if !from.IsZero() {
		query, args = query+` AND at >= ?`, append(args, formatTime(from))
	}
	if !to.IsZero() {
		query, args = query+` AND at < ?`, append(args, formatTime(to))
	}
	rows, err := s.r.QueryContext(ctx, query+` ORDER BY at`, args...)
	if err != nil {
		return nil, fmt.Errorf("query surveys: %w", err)
	}
	defer rows.Close()
	var svs []ticketing.Survey
	for rows.Next() {
		var sv ticketing.Survey
		var rating, at string
		if err := rows.Scan(&sv.TicketID, &sv.Customer, &rating, &sv.Comment, &sv.Actor, &at, &sv.FollowUpID); err != nil {
			return nil, fmt.Errorf("scan survey: %w", err)
		}
		sv.Rating = ticketing.Rating(rating)
		if sv.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("survey of %s: %w", sv.TicketID, err)
		}
		svs = append(svs, sv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query surveys: %w", err)
	}
	return svs, nil
}
