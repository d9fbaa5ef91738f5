package sshcmd

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// looseParam compiles a param as an operator might write it, with a
// pattern that lets anything through: only the always-on check stands
// between the value and the device's CLI.
func looseParam(t testing.TB, pattern string) *param {
	t.Helper()
	c, err := compile(Config{Params: map[string]ParamConfig{"x": {Pattern: pattern, MaxLen: 256}},
		Actions: map[string]ActionConfig{"a": {Commands: []string{"show {{.X}}"}}}})
	if err != nil {
		return nil
	}
	return c.params["x"]
}

// dangerous is the property, stated by category independently of
// unsafeRune: a control or format character (C*), a line or paragraph
// separator, any space but ASCII's, non-ASCII punctuation or symbols, or a
// shell/CLI metacharacter.
func dangerous(r rune) bool {
	return unicode.In(r, unicode.C, unicode.Zl, unicode.Zp) ||
		(unicode.Is(unicode.Zs, r) && r != ' ') ||
		(r > unicode.MaxASCII && unicode.In(r, unicode.P, unicode.S)) ||
		strings.ContainsRune(forbidden, r) || r == utf8.RuneError
}

func TestParamCheckRefusesByCategory(t *testing.T) {
	p := looseParam(t, `.*`)
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"interface", "Gi1/0/1", true},
		{"free text with spaces", "uplink to core 1", true},
		{"CJK letters", "核心 链路", true},
		{"accented letters", "café-ümlaut", true},
		{"line separator U+2028", "Gi1/0/1\u2028reload", false},
		{"paragraph separator U+2029", "Gi1/0/1\u2029reload", false},
		{"NEL U+0085", "Gi1/0/1\u0085reload", false},
		{"full-width semicolon U+FF1B", "Gi1/0/1；reload", false},
		{"full-width vertical line U+FF5C", "Gi1/0/1｜reload", false},
		{"Greek question mark U+037E", "Gi1/0/1\u037ereload", false},
		{"ideographic full stop U+3002", "Gi1/0/1。reload", false},
		{"zero-width space U+200B", "Gi1/0/1\u200b", false},
		{"right-to-left override U+202E", "\u202eGi1/0/1", false},
		{"no-break space U+00A0", "Gi1/0/1\u00a0reload", false},
		{"ideographic space U+3000", "Gi1/0/1\u3000reload", false},
		{"private use U+E000", "Gi\ue000", false},
		{"replacement character", "Gi\ufffd", false},
		{"invalid UTF-8", "Gi\xff1", false},
		{"NUL", "Gi\x001", false},
		{"ASCII semicolon", "Gi1/0/1; reload", false},
		{"vertical tab", "Gi1/0/1\vreload", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := p.check(tc.value)
			if tc.ok != (err == nil) {
				t.Fatalf("check(%+q) = %v, want ok=%v", tc.value, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "param x:") {
				t.Errorf("error %q does not name the param", err)
			}
			if err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return r > unicode.MaxASCII || r < 0x20 }) {
				t.Errorf("error %+q carries the raw character", err)
			}
		})
	}
}

// FuzzParamCheck: whatever the operator's pattern and the value, a value
// the check accepts holds no dangerous character and matches the pattern.
func FuzzParamCheck(f *testing.F) {
	for _, v := range []string{"Gi1/0/1", "核心 链路", "a\u2028b", "a\u0085b", "a；b", "a\u037eb", "\u202e", "\xff", "a\u3000b", "$(x)"} {
		f.Add(`.*`, v)
		f.Add(`[^;]*`, v)
	}
	f.Add(`\PC*`, "a\u00a0b")
	f.Add(`[\p{Zs}\p{Po}a-z]+`, "a\u3000；b")
	f.Fuzz(func(t *testing.T, pattern, value string) {
		p := looseParam(t, pattern)
		if p == nil {
			t.Skip("pattern does not compile")
		}
		if err := p.check(value); err == nil {
			if !utf8.ValidString(value) {
				t.Fatalf("accepted invalid UTF-8 %+q", value)
			}
			if i := strings.IndexFunc(value, dangerous); i >= 0 {
				t.Fatalf("pattern %q: accepted %+q with a dangerous character at byte %d", pattern, value, i)
			}
			if len(value) > 256 {
				t.Fatalf("accepted %d bytes, at most 256", len(value))
			}
			if !p.patterns[0].MatchString(value) {
				t.Fatalf("accepted %+q, which does not match %q", value, pattern)
			}
		}
	})
}
