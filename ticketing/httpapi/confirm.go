package httpapi

import (
	"bytes"
	"html/template"
	"mime"
	"net/http"
	"strings"

	"github.com/nocagent/nocagent/ticketing"
)

// The confirmation pages are for a customer's browser, following a link
// from a notice; a client asking for JSON (Accept: application/json) gets
// the same answers as JSON.

var confirmTmpl = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Heading}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#222}
dt{font-weight:bold;margin-top:.5em}textarea{width:100%}button{margin-top:1em;padding:.5em 1.5em;font-size:1em}
.msg{padding:.75em;background:#f3f3f3;border-left:4px solid #888}</style></head>
<body><h1>{{.Heading}}</h1>
{{with .Message}}<p class="msg">{{.}}</p>{{end}}
{{with .S}}<dl>
<dt>Ticket</dt><dd>{{.TicketID}}: {{.Title}}</dd>
<dt>Device</dt><dd>{{.Device}}</dd>
<dt>Opened</dt><dd>{{.OpenedAt.Format "2006-01-02 15:04 MST"}}</dd>
{{with .ResolvedAt}}<dt>Resolved</dt><dd>{{.Format "2006-01-02 15:04 MST"}}</dd>{{end}}
{{with .Cause}}<dt>Cause</dt><dd>{{.}}</dd>{{end}}
{{with .Solution}}<dt>Solution</dt><dd>{{.}}</dd>{{end}}
</dl>{{end}}
{{if .Form}}<form method="post">
<label for="note">Comment (optional)</label><br>
<textarea id="note" name="note" rows="3" maxlength="2000"></textarea><br>
<button type="submit">Confirm the fault is resolved</button>
</form>
<p><small>This link is valid until {{.S.Expires.Format "2006-01-02 15:04 MST"}}.</small></p>{{end}}
</body></html>
`))

type confirmPage struct {
	Heading string
	Message string
	S       *ticketing.ConfirmSummary
	Form    bool
}

// ConfirmResponse is the JSON body of a successful confirmation request.
type ConfirmResponse struct {
	Summary ticketing.ConfirmSummary `json:"summary"`
	Message string                   `json:"message,omitempty"`
}

func wantsJSON(r *http.Request) bool {
	acc := r.Header.Get("Accept")
	return strings.Contains(acc, "application/json") && !strings.Contains(acc, "text/html")
}

func (a *api) confirmPage(w http.ResponseWriter, r *http.Request) {
	v, err := a.svc.ConfirmView(r.Context(), r.PathValue("token"))
	if err != nil {
		a.confirmFail(w, r, nil, err)
		return
	}
	page := confirmPage{Heading: "Confirm the resolution", S: &v, Form: v.Confirmable,
		Message: ticketing.ConfirmStateMessage(v.State)}
	if v.Confirmable {
		page.Message = "Our monitoring shows the fault has cleared. Please confirm that the service works for you."
	}
	a.confirmReply(w, r, http.StatusOK, page, ConfirmResponse{Summary: v, Message: page.Message})
}

func (a *api) confirmPost(w http.ResponseWriter, r *http.Request) {
	note, err := confirmNote(w, r)
	if err != nil {
		a.confirmFail(w, r, nil, err)
		return
	}
	v, err := a.svc.ConfirmByToken(r.Context(), r.PathValue("token"), note)
	if err != nil {
		var s *ticketing.ConfirmSummary
		if v.TicketID != "" {
			s = &v
		}
		a.confirmFail(w, r, s, err)
		return
	}
	msg := "Thank you: you confirmed the resolution of ticket " + v.TicketID + "."
	a.confirmReply(w, r, http.StatusOK, confirmPage{Heading: "Resolution confirmed", Message: msg, S: &v},
		ConfirmResponse{Summary: v, Message: msg})
}

// confirmNote reads the optional remark: a form field "note", or a JSON
// body {"note": "..."}.
func confirmNote(w http.ResponseWriter, r *http.Request) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var in struct {
			Note string `json:"note"`
		}
		if err := decode(r, &in); err != nil {
			return "", err
		}
		return in.Note, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return "", ticketing.Errorf(ticketing.EINVALID, "invalid form body: want field note (optional)")
	}
	return r.PostFormValue("note"), nil
}

// confirmFail answers an error. The path holds the token, so unlike fail it
// never logs the path.
func (a *api) confirmFail(w http.ResponseWriter, r *http.Request, s *ticketing.ConfirmSummary, err error) {
	code := ticketing.ErrorCode(err)
	status, ok := statusOf[code]
	msg := ticketing.ErrorMessage(err)
	if !ok || status == http.StatusInternalServerError {
		status, code, msg = http.StatusInternalServerError, ticketing.EINTERNAL, "internal error"
		a.h.log.ErrorContext(r.Context(), "confirmation request failed", "method", r.Method, "err", err)
	}
	heading := map[int]string{
		http.StatusNotFound: "Link not found",
		http.StatusGone:     "Link expired",
		http.StatusConflict: "Nothing to confirm",
	}[status]
	if heading == "" {
		heading = "Confirmation failed"
	}
	a.confirmReply(w, r, status, confirmPage{Heading: heading, Message: msg, S: s},
		ErrorResponse{Error: ErrorBody{Code: code, Message: msg}})
}

func (a *api) confirmReply(w http.ResponseWriter, r *http.Request, status int, page confirmPage, body any) {
	h := w.Header()
	// The token in the URL must not leak to other sites or caches, and the
	// page must not be framed into a click on the confirm button.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	if wantsJSON(r) {
		a.h.write(w, status, body)
		return
	}
	var b bytes.Buffer
	if err := confirmTmpl.Execute(&b, page); err != nil {
		a.h.log.ErrorContext(r.Context(), "render confirmation page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
