package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nocagent/nocagent/ticketing"
)

// Tokens maps bearer tokens to actors. Only SHA-256 digests are kept in
// memory, and a presented token is compared with every digest in constant
// time, so neither timing nor a memory dump reveals a token.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [sha256.Size]byte
	actor  ticketing.Actor
}

// minTokenLen refuses guessable tokens.
const minTokenLen = 16

// ParseTokenKey turns a tokens.json key into the actor it stands for:
// "admin", "manager", "engineer" (an actor named after the role),
// "engineer:<name>", "manager:<name>", "admin:<name>", or "customer:<id>".
func ParseTokenKey(key string) (ticketing.Actor, error) {
	role, rest, named := strings.Cut(key, ":")
	r := ticketing.Role(role)
	if !r.Person() {
		return ticketing.Actor{}, fmt.Errorf("token key %q: role %q is not admin, manager, engineer or customer", key, role)
	}
	if named && strings.TrimSpace(rest) == "" {
		return ticketing.Actor{}, fmt.Errorf("token key %q: empty name after ':'", key)
	}
	switch {
	case r == ticketing.RoleCustomer && !named:
		return ticketing.Actor{}, fmt.Errorf("token key %q: want customer:<id>", key)
	case r == ticketing.RoleCustomer:
		return ticketing.Actor{Name: key, Role: r, Customer: rest}, nil
	case named:
		return ticketing.Actor{Name: rest, Role: r}, nil
	}
	return ticketing.Actor{Name: role, Role: r}, nil
}

// NewTokens builds Tokens from key → token (the tokens.json form). Errors
// name the key, never the token.
func NewTokens(m map[string]string) (*Tokens, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := &Tokens{}
	seen := map[[sha256.Size]byte]string{}
	var errs []error
	for _, k := range keys {
		a, err := ParseTokenKey(k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tok := m[k]
		if len(tok) < minTokenLen {
			errs = append(errs, fmt.Errorf("token for %q is shorter than %d characters", k, minTokenLen))
			continue
		}
		d := sha256.Sum256([]byte(tok))
		if other, dup := seen[d]; dup {
			errs = append(errs, fmt.Errorf("tokens for %q and %q are the same", other, k))
			continue
		}
		seen[d] = k
		t.entries = append(t.entries, tokenEntry{digest: d, actor: a})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadTokensFile reads a tokens.json file.
func LoadTokensFile(path string) (*Tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens %s: %w", path, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tokens %s: want a JSON object of role keys to tokens: %w", path, err)
	}
	t, err := NewTokens(m)
	if err != nil {
		return nil, fmt.Errorf("tokens %s: %w", path, err)
	}
	return t, nil
}

// Authenticate returns the actor of r's bearer token.
func (t *Tokens) Authenticate(r *http.Request) (ticketing.Actor, bool) {
	if t == nil {
		return ticketing.Actor{}, false
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return ticketing.Actor{}, false
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	var found ticketing.Actor
	match := 0
	for _, e := range t.entries { // no early exit: the time does not depend on which entry matches
		eq := subtle.ConstantTimeCompare(d[:], e.digest[:])
		if eq == 1 {
			found = e.actor
		}
		match |= eq
	}
	return found, match == 1
}

// GenerateTokens returns a fresh random token for admin, manager, engineer
// and each customer ("customer:<id>"), in the tokens.json form.
func GenerateTokens(customers []string) (map[string]string, error) {
	keys := []string{"admin", "manager", "engineer"}
	for _, c := range customers {
		keys = append(keys, "customer:"+c)
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		if _, err := ParseTokenKey(k); err != nil {
			return nil, err
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("generate token: %w", err)
		}
		m[k] = base64.RawURLEncoding.EncodeToString(b)
	}
	return m, nil
}

// WriteTokensFile writes m as tokens.json, readable by the owner only, via
// a temporary file renamed into place so a reader never sees half a file.
func WriteTokensFile(path string, m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tokens-*.json")
	if err != nil {
		return fmt.Errorf("write tokens %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write tokens %s: %w", path, err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write tokens %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write tokens %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write tokens %s: %w", path, err)
	}
	return nil
}
