package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// Tokens maps bearer tokens to actors. Only SHA-256 digests are kept in
// memory, and a presented token is compared with every digest in constant
// time, so neither timing nor a memory dump reveals a token.
//
// Besides the per-role tokens of tokens.json it accepts the per-person
// accounts of a users file (see User), read again when the file changes,
// so that `nocagent users add|revoke` takes effect in a running agent.
type Tokens struct {
	entries []tokenEntry

	usersPath string
	now       func() time.Time
	mu        sync.Mutex
	users     []tokenEntry
	checked   time.Time // last stat of usersPath
	stamp     [2]int64  // its size and mtime then
}

type tokenEntry struct {
	digest  [sha256.Size]byte
	actor   ticketing.Actor
	expires time.Time // zero: never
}

// WithUsers makes t also accept the accounts of the users file at path;
// now is the clock for expiry (nil: time.Now).
func (t *Tokens) WithUsers(path string, now func() time.Time) (*Tokens, error) {
	if now == nil {
		now = time.Now
	}
	t.usersPath, t.now = path, now
	t.mu.Lock()
	defer t.mu.Unlock()
	return t, t.loadUsers()
}

// usersCheckEvery bounds how often the users file is looked at.
const usersCheckEvery = time.Second

// loadUsers reads the users file again when its size or mtime changed; t.mu
// is held. A file that no longer loads keeps the accounts read before.
func (t *Tokens) loadUsers() error {
	t.checked = t.now()
	st, err := os.Stat(t.usersPath)
	var stamp [2]int64
	if err == nil {
		stamp = [2]int64{st.Size(), st.ModTime().UnixNano()}
	}
	if stamp == t.stamp && t.users != nil {
		return nil
	}
	us, err := LoadUsers(t.usersPath)
	if err != nil {
		return err
	}
	entries := make([]tokenEntry, 0, len(us))
	for _, u := range us {
		if !u.RevokedAt.IsZero() {
			continue
		}
		var d [sha256.Size]byte
		hex.Decode(d[:], []byte(u.Digest)) // checked by LoadUsers
		entries = append(entries, tokenEntry{digest: d, actor: u.Actor(), expires: u.ExpiresAt})
	}
	t.users, t.stamp = entries, stamp
	return nil
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
	var found tokenEntry
	match := 0
	check := func(es []tokenEntry) {
		for _, e := range es { // no early exit: the time does not depend on which entry matches
			eq := subtle.ConstantTimeCompare(d[:], e.digest[:])
			if eq == 1 {
				found = e
			}
			match |= eq
		}
	}
	check(t.entries)
	if t.usersPath != "" {
		t.mu.Lock()
		if t.now().Sub(t.checked) >= usersCheckEvery {
			_ = t.loadUsers() // a broken file keeps the accounts read before
		}
		users := t.users
		t.mu.Unlock()
		check(users)
	}
	if match != 1 || (!found.expires.IsZero() && !t.now().Before(found.expires)) {
		return ticketing.Actor{}, false
	}
	return found.actor, true
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
	return writeFileAtomic(path, append(b, '\n'))
}
