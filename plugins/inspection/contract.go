// Package inspection runs contract inspections (巡检): the built-in
// "device-health" inspector, and a scheduler that inspects every device in
// a contract's scope on the contract's cron schedule, archives each
// result as JSON and reports the findings that should become tickets.
//
// Lifecycle of a Scheduler: NewScheduler (parses every schedule, loads the
// state file), then Run (or Tick from tests and on-demand Inspect calls),
// until Run's context ends. State and archive are plain files, written
// atomically, so a restart neither repeats nor loses a scheduled run.
package inspection

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/nocagent/nocagent/inventory"
	"github.com/nocagent/nocagent/plugins"
)

// Report languages.
const (
	LangEnglish = "en"
	LangChinese = "zh-CN"
)

// Languages lists the report languages, the default first.
var Languages = []string{LangEnglish, LangChinese}

// Contract is a service contract's inspection settings. The inventory
// carries them (YAML keys as tagged); ContractsFromCustomers derives
// defaults for customers that name a contract but configure none.
type Contract struct {
	ID       string `yaml:"id" json:"id"`
	Customer string `yaml:"customer" json:"customer"`
	// Schedule is a standard 5-field cron expression or a descriptor
	// (@daily, @monthly...), in the agent's time zone unless it starts
	// with CRON_TZ=Zone. "@every" is refused: it has no fixed slots, so
	// a missed run could not be told from an early one.
	Schedule   string   `yaml:"schedule" json:"schedule"`
	Scope      Scope    `yaml:"scope,omitempty" json:"scope"`
	Recipients []string `yaml:"recipients,omitempty" json:"recipients,omitempty"`
	Language   string   `yaml:"language,omitempty" json:"language"` // en (default) | zh-CN
	// Inspectors are the inspector plugins to run on each device; empty
	// means the built-in device-health.
	Inspectors []string `yaml:"inspectors,omitempty" json:"inspectors,omitempty"`
}

// Scope selects the devices a contract covers: the customer's devices,
// narrowed by each non-empty list (a device must be at one of Sites, carry
// one of Tags, and be one of Devices).
type Scope struct {
	Sites   []string `yaml:"sites,omitempty" json:"sites,omitempty"`
	Tags    []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	Devices []string `yaml:"devices,omitempty" json:"devices,omitempty"`
}

// Target is one device the scheduler may inspect: what the inspector is
// told about it, its tags for scoping, and the secrets an inspector that
// talks to the device needs (never logged nor archived).
type Target struct {
	Device  plugins.Device
	Tags    []string
	Secrets plugins.Secrets
}

// InScope reports whether t is covered by c.
func (c Contract) InScope(t Target) bool {
	d := t.Device
	switch {
	case c.Customer != "" && d.Customer != c.Customer:
		return false
	case len(c.Scope.Sites) > 0 && !slices.Contains(c.Scope.Sites, d.Site):
		return false
	case len(c.Scope.Devices) > 0 && !slices.Contains(c.Scope.Devices, d.Name):
		return false
	case len(c.Scope.Tags) > 0 && !slices.ContainsFunc(t.Tags, func(tag string) bool { return slices.Contains(c.Scope.Tags, tag) }):
		return false
	}
	return true
}

// idRE keeps contract ids usable as file names.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// scheduleParser accepts what ParseStandard does.
var scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a contract schedule.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if strings.Contains(spec, "@every") {
		return nil, errors.New("@every has no fixed slots; use a cron expression such as \"0 6 * * 1\"")
	}
	s, err := scheduleParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks c and returns every problem, each naming the contract
// and field.
func (c Contract) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("contract %q: %s: %s", c.ID, field, fmt.Sprintf(format, args...)))
	}
	if !idRE.MatchString(c.ID) {
		bad("id", "must be 1-100 characters of A-Z, a-z, 0-9, '.', '_', '-', starting with a letter or digit")
	}
	if c.Schedule == "" {
		bad("schedule", "missing (a cron expression such as \"0 6 1 * *\")")
	} else if _, err := ParseSchedule(c.Schedule); err != nil {
		bad("schedule", "%q: %v", c.Schedule, err)
	}
	if c.Language != "" && !slices.Contains(Languages, c.Language) {
		bad("language", "%q is not one of %v", c.Language, Languages)
	}
	for i, r := range c.Recipients {
		if !strings.Contains(r, "@") {
			bad(fmt.Sprintf("recipients[%d]", i), "%q is not an email address", r)
		}
	}
	return errors.Join(errs...)
}

// Lang is c's report language.
func (c Contract) Lang() string {
	if c.Language == "" {
		return LangEnglish
	}
	return c.Language
}

func (c Contract) inspectors() []string {
	if len(c.Inspectors) == 0 {
		return []string{HealthName}
	}
	return c.Inspectors
}

// DefaultSchedule is the schedule of a derived contract: 06:00 on the
// first day of every month, ahead of the monthly service report.
const DefaultSchedule = "0 6 1 * *"

// ContractsFromInventory derives a contract for each customer that names
// one: all its devices, monthly (DefaultSchedule), in English, to its
// contacts' email addresses. Until the inventory carries inspection
// settings, this is what `nocagent inspect` and the agent use.
func ContractsFromInventory(cfg *inventory.Config) []Contract {
	var out []Contract
	for _, c := range cfg.Customers {
		if c.Contract == "" {
			continue
		}
		var to []string
		for _, ct := range c.Contacts {
			if ct.Email != "" {
				to = append(to, ct.Email)
			}
		}
		out = append(out, Contract{ID: c.Contract, Customer: c.ID, Schedule: DefaultSchedule, Recipients: to, Language: LangEnglish})
	}
	return out
}

// TargetsFromInventory lists the inventory's devices as targets (without
// secrets: the built-in inspector reads snapshots, not devices).
func TargetsFromInventory(cfg *inventory.Config) []Target {
	out := make([]Target, 0, len(cfg.Devices))
	for _, d := range cfg.Devices {
		out = append(out, Target{Device: plugins.Device{Name: d.Name, Address: d.Address, CredentialRef: d.Credential,
			Role: d.Role, Customer: d.Customer, Site: d.Site}, Tags: slices.Clone(d.Tags)})
	}
	return out
}
