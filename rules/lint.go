package rules

import (
	"fmt"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// lintClear finds clear conditions that cannot do their job. It is a
// load-time check, deliberately narrow so that it never refuses a sound
// rule. It detects:
//
//   - a clear identical to the condition (after parsing, so spacing does not
//     matter): it holds whenever the fault does, so the alert would resolve
//     while the fault persists;
//   - a clear that is the constant false: it can never be true;
//   - a clear whose and-ed comparisons on one field contradict each other
//     (x < 10 && x > 20): it can never be true;
//   - threshold hysteresis pointing the wrong way: for a condition x > A
//     (or >=), a clear x < B (or <=) with B > A, or a clear x > B (or >=)
//     with B >= A — either way the clear holds while the condition still
//     does; and the mirror image for a condition x < A.
//
// Thresholds are numbers or arithmetic over threshold, evaluated with the
// rule's threshold and with every override's.
func lintClear(r *Rule) []string {
	ct, err1 := exprparser.Parse(r.Condition)
	lt, err2 := exprparser.Parse(r.Clear)
	if err1 != nil || err2 != nil {
		return nil // compile has reported it
	}
	if ct.Node.String() == lt.Node.String() {
		return []string{"identical to the condition: it holds whenever the fault does, so the alert would resolve while the fault persists"}
	}
	if b, ok := lt.Node.(*ast.BoolNode); ok && !b.Value {
		return []string{"is always false: the alert could never resolve"}
	}
	thresholds := []float64{r.Threshold}
	for _, o := range r.Overrides {
		if o.Threshold != nil {
			thresholds = append(thresholds, *o.Threshold)
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(msg string) {
		if !seen[msg] {
			seen[msg] = true
			out = append(out, msg)
		}
	}
	for _, th := range thresholds {
		conds := comparisons(ct.Node, th)
		clears := comparisons(lt.Node, th)
		for i, a := range clears {
			for _, b := range clears[i+1:] {
				if a.field == b.field && disjoint(a, b) {
					add(fmt.Sprintf("%s and %s can never both be true", a, b))
				}
			}
		}
		for _, c := range conds {
			for _, l := range clears {
				if c.field != l.field {
					continue
				}
				if msg := wrongWay(c, l); msg != "" {
					add(msg)
				}
			}
		}
	}
	return out
}

// cmpTerm is "field op limit", normalised so the field is on the left.
type cmpTerm struct {
	field string
	op    string // < <= > >=
	limit float64
}

func (c cmpTerm) String() string {
	return c.field + " " + c.op + " " + strconv.FormatFloat(c.limit, 'g', -1, 64)
}

func (c cmpTerm) above() bool { return c.op == ">" || c.op == ">=" }

// comparisons returns the threshold comparisons and-ed at the top of n.
func comparisons(n ast.Node, threshold float64) []cmpTerm {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil
	}
	switch b.Operator {
	case "&&", "and":
		return append(comparisons(b.Left, threshold), comparisons(b.Right, threshold)...)
	case "<", "<=", ">", ">=":
	default:
		return nil
	}
	flip := map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}
	if v, ok := constant(b.Right, threshold); ok && !constantish(b.Left) {
		return []cmpTerm{{field: b.Left.String(), op: b.Operator, limit: v}}
	}
	if v, ok := constant(b.Left, threshold); ok && !constantish(b.Right) {
		return []cmpTerm{{field: b.Right.String(), op: flip[b.Operator], limit: v}}
	}
	return nil
}

// constantish reports whether n reads nothing from the snapshot.
func constantish(n ast.Node) bool {
	ok := true
	ast.Walk(&n, visitFunc(func(n *ast.Node) {
		switch x := (*n).(type) {
		case *ast.MemberNode, *ast.CallNode:
			ok = false
		case *ast.IdentifierNode:
			if x.Value != "threshold" {
				ok = false
			}
		}
	}))
	return ok
}

type visitFunc func(*ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(n) }

// constant evaluates n when it is arithmetic over numbers and threshold.
func constant(n ast.Node, threshold float64) (float64, bool) {
	if !constantish(n) {
		return 0, false
	}
	out, err := expr.Eval(n.String(), map[string]any{"threshold": threshold})
	if err != nil {
		return 0, false
	}
	switch v := out.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

// disjoint reports whether no value satisfies both comparisons.
func disjoint(a, b cmpTerm) bool {
	if a.above() == b.above() {
		return false
	}
	lo, hi := a, b // lo: x > lo.limit, hi: x < hi.limit
	if !a.above() {
		lo, hi = b, a
	}
	if lo.limit > hi.limit {
		return true
	}
	return lo.limit == hi.limit && (lo.op == ">" || hi.op == "<")
}

// wrongWay explains a clear comparison that holds while the condition's
// comparison on the same field still does.
func wrongWay(c, l cmpTerm) string {
	switch {
	case c.above() && !l.above() && l.limit > c.limit:
		return fmt.Sprintf("%s clears above the fire threshold of %s: between the two the alert would fire and resolve at once", l, c)
	case !c.above() && l.above() && l.limit < c.limit:
		return fmt.Sprintf("%s clears below the fire threshold of %s: between the two the alert would fire and resolve at once", l, c)
	case c.above() && l.above() && l.limit >= c.limit:
		return fmt.Sprintf("%s can only hold while %s does: the alert would resolve while the fault persists", l, c)
	case !c.above() && !l.above() && l.limit <= c.limit:
		return fmt.Sprintf("%s can only hold while %s does: the alert would resolve while the fault persists", l, c)
	}
	return ""
}
