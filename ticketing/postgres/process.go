package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nocagent/nocagent/ticketing"
)

func (x *txn) OpenLoads(ctx context.Context) (map[string]int, error) {
	rows, err := x.q.Query(ctx, `SELECT assignee, COUNT(*) FROM tickets
		WHERE assignee <> '' AND `+openStatesSQL+` GROUP BY assignee`)
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
	ids, err := stringColumn(ctx, x.q, `SELECT id FROM tickets WHERE fingerprint = $1 AND opened_at >= $2 ORDER BY seq`, fp, since)
	if err != nil {
		return nil, fmt.Errorf("tickets of fingerprint %s: %w", fp, err)
	}
	return ids, nil
}

const problemColumns = `SELECT id, fingerprint, title, state, opened_at FROM problems`

func queryProblems(ctx context.Context, q querier, query string, args ...any) ([]ticketing.Problem, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query problems: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticketing.Problem, error) {
		var p ticketing.Problem
		err := r.Scan(&p.ID, &p.Fingerprint, &p.Title, &p.State, &p.OpenedAt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("query problems: %w", err)
	}
	for i := range ps {
		ids, err := stringColumn(ctx, q, `SELECT id FROM tickets WHERE problem_id = $1 ORDER BY seq`, ps[i].ID)
		if err != nil {
			return nil, fmt.Errorf("tickets of problem %s: %w", ps[i].ID, err)
		}
		ps[i].TicketIDs = ids
	}
	return ps, nil
}

func stringColumn(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, err
}

func (x *txn) OpenProblemByFingerprint(ctx context.Context, fp string) (ticketing.Problem, bool, error) {
	// Held to commit: two agents crossing the threshold at once open one
	// problem record, not a conflict.
	if err := x.lock(ctx, lockProblem, fp); err != nil {
		return ticketing.Problem{}, false, err
	}
	ps, err := queryProblems(ctx, x.q, problemColumns+` WHERE fingerprint = $1 AND state = 'open'`, fp)
	if err != nil || len(ps) == 0 {
		return ticketing.Problem{}, false, err
	}
	return ps[0], true, nil
}

func (x *txn) NextProblemSeq(ctx context.Context) (int64, error) {
	return x.next(ctx, "problem", "problems")
}

func (x *txn) CreateProblem(ctx context.Context, seq int64, p ticketing.Problem) error {
	_, err := x.q.Exec(ctx, `INSERT INTO problems (seq, id, fingerprint, title, state, opened_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, seq, p.ID, p.Fingerprint, p.Title, p.State, p.OpenedAt)
	if err != nil {
		return storeErr(err, "create problem %s (%s)", p.ID, p.Fingerprint)
	}
	return nil
}

func (x *txn) AddSurvey(ctx context.Context, sv ticketing.Survey) error {
	_, err := x.q.Exec(ctx, `INSERT INTO surveys (ticket_id, customer, rating, comment, actor, at, follow_up_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, sv.TicketID, sv.Customer, string(sv.Rating), sv.Comment, sv.Actor,
		sv.At, sv.FollowUpID)
	if err != nil {
		return storeErr(err, "survey of ticket %s (already answered?)", sv.TicketID)
	}
	return nil
}

func (x *txn) AddArticle(ctx context.Context, a ticketing.Article) (int64, error) {
	var id int64
	err := x.q.QueryRow(ctx, `INSERT INTO kb_articles (ticket_id, category, rule, vendor, model, title,
		cause, solution, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, a.TicketID, a.Category,
		a.Rule, a.Vendor, a.Model, a.Title, a.Cause, a.Solution, a.CreatedAt).Scan(&id)
	if err != nil {
		return 0, storeErr(err, "knowledge-base article of ticket %s", a.TicketID)
	}
	return id, nil
}

// Problems implements ticketing.Store.
func (s *Store) Problems(ctx context.Context, state string) ([]ticketing.Problem, error) {
	var ps []ticketing.Problem
	err := s.view(ctx, func(q querier) error {
		query, args := problemColumns, []any{}
		if state != "" {
			query, args = query+` WHERE state = $1`, append(args, state)
		}
		var err error
		ps, err = queryProblems(ctx, q, query+` ORDER BY seq DESC`, args...)
		return err
	})
	return ps, err
}

// Articles implements ticketing.Store.
func (s *Store) Articles(ctx context.Context, limit int) ([]ticketing.Article, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, ticket_id, category, rule, vendor, model, title, cause, solution,
		created_at FROM kb_articles ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("query articles on %s: %w", s.where, err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticketing.Article, error) {
		var a ticketing.Article
		err := r.Scan(&a.ID, &a.TicketID, &a.Category, &a.Rule, &a.Vendor, &a.Model, &a.Title, &a.Cause,
			&a.Solution, &a.CreatedAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("query articles on %s: %w", s.where, err)
	}
	return as, nil
}

// Surveys implements ticketing.Store.
func (s *Store) Surveys(ctx context.Context, customer string, from, to time.Time) ([]ticketing.Survey, error) {
	var a args
	query := `SELECT ticket_id, customer, rating, comment, actor, at, follow_up_id FROM surveys WHERE true`
	if customer != "" {
		query += ` AND customer = ` + a.add(customer)
	}
	if !from.IsZero() {
		query += ` AND at >= ` + a.add(from)
	}
	if !to.IsZero() {
		query += ` AND at < ` + a.add(to)
	}
	rows, err := s.pool.Query(ctx, query+` ORDER BY at`, a...)
	if err != nil {
		return nil, fmt.Errorf("query surveys on %s: %w", s.where, err)
	}
	svs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticketing.Survey, error) {
		var sv ticketing.Survey
		var rating string
		err := r.Scan(&sv.TicketID, &sv.Customer, &rating, &sv.Comment, &sv.Actor, &sv.At, &sv.FollowUpID)
		sv.Rating = ticketing.Rating(rating)
		return sv, err
	})
	if err != nil {
		return nil, fmt.Errorf("query surveys on %s: %w", s.where, err)
	}
	return svs, nil
}
