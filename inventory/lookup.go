package inventory

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"

	"gopkg.in/yaml.v3"
)

// Lookups scan the lists: inventories hold thousands of entries at most and a
// Config built in code may be edited, so an index could go stale.

// Device returns the device named name.
func (c *Config) Device(name string) (Device, bool) {
	for _, d := range c.Devices {
		if d.Name == name {
			return d, true
		}
	}
	return Device{}, false
}

// Customer returns the customer with the given id.
func (c *Config) Customer(id string) (Customer, bool) {
	for _, cu := range c.Customers {
		if cu.ID == id {
			return cu, true
		}
	}
	return Customer{}, false
}

// Site returns the site with the given id.
func (c *Config) Site(id string) (Site, bool) {
	for _, s := range c.Sites {
		if s.ID == id {
			return s, true
		}
	}
	return Site{}, false
}

// Credential returns the credential profile named name, secrets included:
// hand it to the SNMP client only, never to a log or an API.
func (c *Config) Credential(name string) (Credential, bool) {
	for _, cr := range c.Credentials {
		if cr.Name == name {
			return cr, true
		}
	}
	return Credential{}, false
}

// Redacted returns a deep copy with every credential and notifier secret
// replaced, safe to log or serve.
func (c Config) Redacted() Config {
	out := c
	out.Credentials = make([]Credential, len(c.Credentials))
	for i, cr := range c.Credentials {
		out.Credentials[i] = cr.Redacted()
	}
	out.Notifiers = make([]Notifier, len(c.Notifiers))
	for i, n := range c.Notifiers {
		out.Notifiers[i] = n.Redacted()
	}
	if u, err := url.Parse(c.Store); err == nil && c.Store != "" {
		out.Store = u.Redacted()
	} else if c.Store != "" {
		out.Store = "<redacted>"
	}
	if c.Influx != nil {
		x := *c.Influx
		if u, err := url.Parse(x.URL); err == nil {
			x.URL = u.Redacted() // hides a password in user info
		}
		out.Influx = &x
	}
	return out
}

// String renders the configuration as YAML with secrets redacted.
func (c Config) String() string {
	r := c.Redacted()
	b, err := yaml.Marshal(&r)
	if err != nil {
		// Marshalling these plain types cannot fail; say so rather than
		// fall back to a %v that would print secrets.
		return fmt.Sprintf("<inventory.Config %s: %v>", c.Path, err)
	}
	return string(b)
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return c.String() }

// LogValue keeps secrets out of slog output and the record small.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("path", c.Path),
		slog.Int("devices", len(c.Devices)),
		slog.Int("customers", len(c.Customers)),
		slog.Int("credentials", len(c.Credentials)),
	)
}

// String describes the credential without its secrets.
func (c Credential) String() string {
	r := c.Redacted()
	if r.Version == SNMPv3 {
		return fmt.Sprintf("%s (SNMPv3 user %q, %s, auth %s %s, priv %s %s, context %q)",
			r.Name, r.Username, r.SecurityLevel, r.AuthProtocol, r.AuthKey, r.PrivProtocol, r.PrivKey, r.ContextName)
	}
	return fmt.Sprintf("%s (SNMPv%s, community %s)", r.Name, r.Version, r.Community)
}

// GoString keeps %#v from printing secrets.
func (c Credential) GoString() string { return c.String() }

// LogValue keeps secrets out of slog output.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("version", c.Version),
		slog.String("username", c.Username),
		slog.String("security_level", c.SecurityLevel),
	)
}

// Redacted returns a copy whose URL keeps only scheme and host: webhook URLs
// often carry a token in their path, query or user info.
func (n Notifier) Redacted() Notifier {
	if n.URL == "" {
		return n
	}
	u, err := url.Parse(n.URL)
	if err != nil || u.Host == "" {
		n.URL = "<redacted>"
		return n
	}
	n.URL = u.Scheme + "://" + u.Host + "/<redacted>"
	return n
}

// String describes the notifier without the secret parts of its URL.
func (n Notifier) String() string {
	r := n.Redacted()
	return fmt.Sprintf("%s (%s %s)", r.Name, r.Kind, r.URL)
}

// GoString keeps %#v from printing secrets.
func (n Notifier) GoString() string { return n.String() }

// LogValue keeps the URL's secret parts out of slog output.
func (n Notifier) LogValue() slog.Value {
	r := n.Redacted()
	return slog.GroupValue(slog.String("name", r.Name), slog.String("kind", r.Kind), slog.String("url", r.URL))
}

// Credentials and notifiers marshal redacted, so handing one to an API
// encoder or a YAML dump cannot leak a secret. The SNMP client reads the
// fields directly and is unaffected.

// plainCredential and plainNotifier drop the methods, so marshalling the
// redacted copy does not recurse.
type (
	plainCredential Credential
	plainNotifier   Notifier
)

// MarshalJSON encodes the redacted credential.
func (c Credential) MarshalJSON() ([]byte, error) { return json.Marshal(plainCredential(c.Redacted())) }

// MarshalYAML encodes the redacted credential.
func (c Credential) MarshalYAML() (any, error) { return plainCredential(c.Redacted()), nil }

// MarshalJSON encodes the redacted notifier.
func (n Notifier) MarshalJSON() ([]byte, error) { return json.Marshal(plainNotifier(n.Redacted())) }

// MarshalYAML encodes the redacted notifier.
func (n Notifier) MarshalYAML() (any, error) { return plainNotifier(n.Redacted()), nil }
