package httpapi

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

func TestUserTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	bob, bobTok, err := NewUser("bob", ticketing.RoleEngineer, "", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	li, liTok, _ := NewUser("li.wei", ticketing.RoleCustomer, "acme", now, 0)
	for _, u := range []User{bob, li} {
		if err := AddUser(path, u); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := NewTokens(map[string]string{"admin": "admin-token-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if tk, err = tk.WithUsers(path, clock); err != nil {
		t.Fatal(err)
	}
	auth := func(tok string) (ticketing.Actor, bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return tk.Authenticate(r)
	}
	if a, ok := auth(bobTok); !ok || a.Name != "bob" || a.Role != ticketing.RoleEngineer {
		t.Errorf("bob = %+v %v", a, ok)
	}
	if a, ok := auth(liTok); !ok || a.Name != "li.wei" || a.Customer != "acme" {
		t.Errorf("li.wei = %+v %v", a, ok)
	}
	if _, ok := auth("admin-token-0123456789"); !ok {
		t.Error("the role token stopped working beside users")
	}
	now = now.Add(25 * time.Hour)
	if _, ok := auth(bobTok); ok {
		t.Error("bob's token works after it expired")
	}
	if err := RevokeUser(path, "li.wei", now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(usersCheckEvery)
	if _, ok := auth(liTok); ok {
		t.Error("li.wei's token works after revoke")
	}
	for _, bad := range []struct {
		name     string
		role     ticketing.Role
		customer string
	}{{"Bob Smith", ticketing.RoleEngineer, ""}, {"engineer", ticketing.RoleEngineer, ""}, {"x", "root", ""}, {"y", ticketing.RoleCustomer, ""}, {"z", ticketing.RoleManager, "acme"}} {
		if _, _, err := NewUser(bad.name, bad.role, bad.customer, now, 0); err == nil {
			t.Errorf("NewUser(%q, %q, %q) accepted", bad.name, bad.role, bad.customer)
		}
	}
}
