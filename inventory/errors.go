package inventory

import (
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem in a configuration, located as precisely as the
// source allows: file, line and column when it came from YAML, only the field
// path when the Config was built in code. Message never contains a secret.
type FieldError struct {
	File    string // as given to Load or Parse; empty for a Config built in code
	Line    int    // 1-based; 0 when unknown
	Column  int    // 1-based; 0 when unknown
	Field   string // e.g. devices[3].credential; empty for file-level problems
	Message string
}

// Error renders "file:line:col: field: message", leaving out the parts that
// are unknown.
func (e FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ValidationErrors is every problem found in one configuration, so a user
// fixes the file in one pass instead of one error per run.
type ValidationErrors []FieldError

// Error lists one problem per line.
func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// position is where a field path was found in the YAML source.
type position struct{ line, col int }

// report collects FieldErrors and knows where each field path sits in the
// source, if there is a source.
type report struct {
	file string
	pos  map[string]position // nil for a Config built in code
	errs ValidationErrors
	// failed holds field paths that could not be decoded; validation stays
	// quiet about them and what they contain, since their zero value would
	// only add "required" or "must be positive" noise to the real error.
	failed map[string]bool
}

// add records a problem with field path; the position is that of the path or,
// for a missing field, of the nearest enclosing element that exists.
func (r *report) add(path, msg string) {
	for q := path; q != ""; q = parentPath(q) {
		if r.failed[q] {
			return
		}
	}
	p := r.lookup(path)
	r.errs = append(r.errs, FieldError{File: r.file, Line: p.line, Column: p.col, Field: path, Message: msg})
}

// addAt records a decoding problem at a source position.
func (r *report) addAt(p position, path, msg string) {
	if r.failed == nil {
		r.failed = map[string]bool{}
	}
	r.failed[path] = true
	r.errs = append(r.errs, FieldError{File: r.file, Line: p.line, Column: p.col, Field: path, Message: msg})
}

// explicit reports whether the source set path; a Config built in code has
// no source, so nothing there is explicit and zero values mean "default".
func (r *report) explicit(path string) bool {
	_, ok := r.pos[path]
	return ok
}

func (r *report) lookup(path string) position {
	for {
		if p, ok := r.pos[path]; ok {
			return p
		}
		if path == "" {
			return position{}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last ".field" or "[i]" from a field path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// result returns the collected errors in source order, or nil.
func (r *report) result() error {
	if len(r.errs) == 0 {
		return nil
	}
	// Stable so that errors at the same place, and all errors of a Config
	// built in code (no lines), keep the order the checks found them in.
	sort.SliceStable(r.errs, func(i, j int) bool {
		a, b := r.errs[i], r.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return r.errs
}
