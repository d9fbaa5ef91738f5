package notice

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/nocagent/nocagent/ticketing"
)

// A catalog holds one language's sentences. Keys of msgs are
// "customer/<event>" and "staff/<event>"; staff messages share staffFacts.
type catalog struct {
	msgs       map[string]msg
	staffFacts []fact
	common     common
}

type msg struct {
	subject, heading *tmpl
	link             *tmpl // the sentence before a confirmation link
	body, outro      []*tmpl
	facts            []fact
}

type fact struct {
	label string
	value *tmpl // a fact whose value renders empty is left out
}

type common struct {
	ref, greeting, devicesTitle, evidenceTitle *tmpl
}

// vocab are the fmt patterns Go code fills for a language.
type vocab struct {
	serial, recovered, firing                                            string
	days, hours, minutes, durSep, lessThanMinute                         string
	clockDue, clockPaused, clockMet, clockBreached, clockBreachedStopped string
	modes                                                                map[ticketing.ServiceMode]string
}

// src is how catalogs are written: plain strings, compiled by compile.
type src struct {
	Subject, Heading string
	Link             string // introduces the confirmation link, when there is one
	Body, Outro      []string
	Facts            [][2]string // label, value template
}

type tmpl struct{ t *template.Template }

func (t *tmpl) exec(d *data) (string, error) {
	var b strings.Builder
	if err := t.t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

var funcs = template.FuncMap{
	"sub": func(a, b int) int { return a - b },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}

func mustTmpl(name, text string) *tmpl {
	if text == "" {
		return nil
	}
	return &tmpl{template.Must(template.New(name).Option("missingkey=error").Funcs(funcs).Parse(text))}
}

func compile(lang string, msgs map[string]src, staffFacts [][2]string, ref, greeting, devicesTitle, evidenceTitle string) catalog {
	c := catalog{msgs: map[string]msg{}}
	for key, s := range msgs {
		name := lang + "/" + key
		m := msg{subject: mustTmpl(name+"/subject", s.Subject), heading: mustTmpl(name+"/heading", s.Heading),
			link: mustTmpl(name+"/link", s.Link)}
		for i, b := range s.Body {
			m.body = append(m.body, mustTmpl(fmt.Sprintf("%s/body%d", name, i), b))
		}
		for i, b := range s.Outro {
			m.outro = append(m.outro, mustTmpl(fmt.Sprintf("%s/outro%d", name, i), b))
		}
		for _, f := range s.Facts {
			m.facts = append(m.facts, fact{label: f[0], value: mustTmpl(name+"/"+f[0], f[1])})
		}
		c.msgs[key] = m
	}
	for _, f := range staffFacts {
		c.staffFacts = append(c.staffFacts, fact{label: f[0], value: mustTmpl(lang+"/staff/"+f[0], f[1])})
	}
	c.common = common{
		ref:           mustTmpl(lang+"/ref", ref),
		greeting:      mustTmpl(lang+"/greeting", greeting),
		devicesTitle:  mustTmpl(lang+"/devices", devicesTitle),
		evidenceTitle: mustTmpl(lang+"/evidence", evidenceTitle),
	}
	return c
}

var (
	catalogs = map[string]catalog{"en": catalogEN, "zh-CN": catalogZH}
	words    = map[string]vocab{"en": vocabEN, "zh-CN": vocabZH}
)
