package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// User is one person's API account: who they are, their role, and the
// SHA-256 digest of their token (the token itself is shown once, when it
// is made, and stored nowhere). users.json holds them.
type User struct {
	Name      string         `json:"name"`
	Role      ticketing.Role `json:"role"`
	Customer  string         `json:"customer,omitempty"` // for role customer
	Digest    string         `json:"sha256"`
	CreatedAt time.Time      `json:"created_at"`
	ExpiresAt time.Time      `json:"expires_at,omitzero"`
	RevokedAt time.Time      `json:"revoked_at,omitzero"`
}

// Actor is the person behind the account.
func (u User) Actor() ticketing.Actor {
	return ticketing.Actor{Name: u.Name, Role: u.Role, Customer: u.Customer}
}

// Active reports whether the account's token is accepted at now.
func (u User) Active(now time.Time) bool {
	return u.RevokedAt.IsZero() && (u.ExpiresAt.IsZero() || now.Before(u.ExpiresAt))
}

var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// NewUser makes an account and its token. Names are lower-case letters,
// digits, '.', '_' and '-' (li.wei, bob), and not a role's name.
func NewUser(name string, role ticketing.Role, customer string, now time.Time, ttl time.Duration) (User, string, error) {
	switch {
	case !userName.MatchString(name):
		return User{}, "", fmt.Errorf("user name %q: want lower-case letters, digits, '.', '_' or '-', at most 64", name)
	case ticketing.Role(name).Person():
		return User{}, "", fmt.Errorf("user name %q is a role's name", name)
	case !role.Person():
		return User{}, "", fmt.Errorf("role %q: want admin, manager, engineer or customer", role)
	case role == ticketing.RoleCustomer && customer == "":
		return User{}, "", errors.New("a customer's user needs --customer")
	case role != ticketing.RoleCustomer && customer != "":
		return User{}, "", fmt.Errorf("--customer is for role customer, not %s", role)
	case ttl < 0:
		return User{}, "", errors.New("expiry must not be negative")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return User{}, "", fmt.Errorf("generate token: %w", err)
	}
	tok := "nca_" + base64.RawURLEncoding.EncodeToString(b)
	d := sha256.Sum256([]byte(tok))
	u := User{Name: name, Role: role, Customer: customer, Digest: hex.EncodeToString(d[:]), CreatedAt: now.UTC()}
	if ttl > 0 {
		u.ExpiresAt = now.Add(ttl).UTC()
	}
	return u, tok, nil
}

// LoadUsers reads users.json; a file that does not exist is no users.
func LoadUsers(path string) ([]User, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read users %s: %w", path, err)
	}
	var us []User
	if err := json.Unmarshal(b, &us); err != nil {
		return nil, fmt.Errorf("users %s: want a JSON list of accounts: %w", path, err)
	}
	seen := map[string]bool{}
	for i, u := range us {
		d, err := hex.DecodeString(u.Digest)
		switch {
		case err != nil || len(d) != sha256.Size:
			return nil, fmt.Errorf("users %s: entry %d (%s): sha256 is not a SHA-256 digest", path, i, u.Name)
		case !u.Role.Person() || u.Name == "" || (u.Role == ticketing.RoleCustomer) != (u.Customer != ""):
			return nil, fmt.Errorf("users %s: entry %d (%s): bad role or customer", path, i, u.Name)
		case seen[u.Name]:
			return nil, fmt.Errorf("users %s: %s is listed twice", path, u.Name)
		}
		seen[u.Name] = true
	}
	return us, nil
}

// SaveUsers writes users.json, readable by the owner only, via a file
// renamed into place.
func SaveUsers(path string, us []User) error {
	if us == nil {
		us = []User{}
	}
	b, err := json.MarshalIndent(us, "", "  ")
	if err != nil {
		return fmt.Errorf("encode users: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// AddUser appends u to the users file; a name that exists is refused.
func AddUser(path string, u User) error {
	us, err := LoadUsers(path)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(us, func(x User) bool { return x.Name == u.Name }) {
		return fmt.Errorf("user %s exists (revoke it first, or choose another name)", u.Name)
	}
	return SaveUsers(path, append(us, u))
}

// RevokeUser marks a user's token refused from now on.
func RevokeUser(path, name string, now time.Time) error {
	us, err := LoadUsers(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(us, func(x User) bool { return x.Name == name })
	switch {
	case i < 0:
		return fmt.Errorf("no user %s", name)
	case !us[i].RevokedAt.IsZero():
		return fmt.Errorf("user %s was revoked at %s", name, us[i].RevokedAt.Format(time.RFC3339))
	}
	us[i].RevokedAt = now.UTC()
	return SaveUsers(path, us)
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
