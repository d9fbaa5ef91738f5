package notice

import (
	htmltemplate "html/template"
	"strings"
	"text/template"
)

// The layouts only arrange a view; every word comes from the catalogs. The
// HTML layout uses inline styles because mail clients drop <style> blocks.

var textLayout = template.Must(template.New("text").Parse(
	`{{.Heading}}
{{if .Greeting}}
{{.Greeting}}
{{end}}{{range .Body}}
{{.}}
{{end}}{{if .Facts}}
{{range .Facts}}{{.Label}}{{$.Colon}}{{.Value}}
{{end}}{{end}}{{range .Lists}}
{{.Title}}{{.Colon}}
{{range .Items}}  - {{.}}
{{end}}{{end}}{{with .Link}}
{{.Text}}
{{.URL}}
{{end}}{{range .Outro}}
{{.}}
{{end}}
{{if .Signature}}{{.Signature}}
{{end}}{{.Ref}}
`))

var htmlLayout = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:Arial,'Microsoft YaHei',sans-serif;font-size:14px;line-height:1.5;color:#222">
<h2 style="font-size:18px">{{.Heading}}</h2>
{{- if .Greeting}}
<p>{{.Greeting}}</p>
{{- end}}
{{- range .Body}}
<p>{{.}}</p>
{{- end}}
{{- if .Facts}}
<table style="border-collapse:collapse">
{{- range .Facts}}
<tr><th style="text-align:left;vertical-align:top;padding:4px 12px 4px 0;white-space:nowrap">{{.Label}}</th><td style="padding:4px 0">{{.Value}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- range .Lists}}
<p><strong>{{.Title}}</strong></p>
<ul>
{{- range .Items}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- with .Link}}
<p>{{.Text}}<br><a href="{{.URL}}">{{.URL}}</a></p>
{{- end}}
{{- range .Outro}}
<p>{{.}}</p>
{{- end}}
<p style="color:#666">{{if .Signature}}{{.Signature}}<br>{{end}}{{.Ref}}</p>
</body>
</html>
`))

// markdownLayout suits WeCom and DingTalk markdown and, with .Slack, Slack
// mrkdwn (single-asterisk bold, no headings). A link's URL goes unescaped
// into the link target: confirmLink admits only characters safe there.
var markdownLayout = template.Must(template.New("markdown").Funcs(template.FuncMap{
	"bold": func(slack bool, s string) string {
		if slack {
			return "*" + s + "*"
		}
		return "**" + s + "**"
	},
	"md": mdEscape,
}).Parse(
	`{{if .Slack}}{{bold true (md .Heading)}}{{else}}### {{md .Heading}}{{end}}
{{range .Body}}
{{md .}}
{{end}}{{if .Facts}}
{{range .Facts}}- {{bold $.Slack .Label}}{{$.Colon}}{{md .Value}}
{{end}}{{end}}{{range .Lists}}
{{bold $.Slack .Title}}
{{range .Items}}- {{md .}}
{{end}}{{end}}{{with .Link}}
{{md .Text}}
{{if $.Slack}}<{{.URL}}>{{else}}[{{md .URL}}]({{.URL}}){{end}}
{{end}}
{{md .Ref}}
`))

// mdEscape keeps device names like core_sw_1 or *lab* from turning into
// emphasis in chat clients.
var mdEscape = strings.NewReplacer("*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`).Replace

func execText(t *template.Template, v *view) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}
