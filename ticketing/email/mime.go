package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/nocagent/nocagent/ticketing"
)

// MessageID is the Message-ID of the letter for audience in lang about the
// event: derived from the event id, so a re-sent notice carries the same id
// and mail systems and readers recognise the duplicate.
func MessageID(eventID, audience, lang, domain string) string {
	return "<" + atom(eventID) + "." + atom(audience) + "." + atom(lang) + "@" + domain + ">"
}

// atom keeps a Message-ID's left part within RFC 5322 dot-atom text.
func atom(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r):
			return r
		}
		return '.'
	}, s)
}

// encodeSubject returns s as RFC 2047 encoded words when it is not ASCII,
// folded between words so no header line grows past the 78-column advice.
func encodeSubject(s string) string {
	enc := mime.BEncoding.Encode("UTF-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func (s *Sender) compose(n ticketing.Notice, l Letter, subject, text, html string) ([]byte, error) {
	var b bytes.Buffer
	to := make([]string, 0, len(l.To))
	for _, a := range l.To {
		addr, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", a, err)
		}
		to = append(to, addr.String())
	}
	date := n.At
	if date.IsZero() {
		date = time.Now()
	}
	sum := sha256.Sum256([]byte(n.EventID + "\x00" + l.Audience + "\x00" + l.Lang))
	boundary := "nocagent-" + hex.EncodeToString(sum[:12])
	headers := [][2]string{
		{"From", s.from.String()},
		{"To", strings.Join(to, ",\r\n ")},
		{"Subject", encodeSubject(subject)},
		{"Date", date.Format(time.RFC1123Z)},
		{"Message-ID", MessageID(n.EventID, l.Audience, l.Lang, s.domain)},
		// Every notice of a ticket refers to the ticket, so mail readers
		// thread them.
		{"References", "<" + atom(n.Ticket.ID) + "@" + s.domain + ">"},
		{"X-Nocagent-Event-Id", n.EventID},
		{"X-Nocagent-Ticket", n.Ticket.ID},
		{"Auto-Submitted", "auto-generated"}, // RFC 3834: no vacation replies
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/alternative; boundary="` + boundary + `"`},
	}
	for _, h := range headers {
		if strings.ContainsAny(h[1], "\r\n") && h[0] != "To" && h[0] != "Subject" {
			return nil, fmt.Errorf("header %s: line break in value", h[0])
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=UTF-8", text},
		{"text/html; charset=UTF-8", html},
	} {
		body := []byte(strings.ReplaceAll(part.body, "\n", "\r\n"))
		cte := transferEncoding(body)
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {cte},
		})
		if err != nil {
			return nil, err
		}
		if err := encodeBody(w, cte, body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// transferEncoding picks quoted-printable for mostly-ASCII text (readable
// raw, compact) and base64 for mostly-CJK text, where quoted-printable
// triples the size.
func transferEncoding(body []byte) string {
	high := 0
	for _, c := range body {
		if c >= 0x80 {
			high++
		}
	}
	if high*3 > len(body) {
		return "base64"
	}
	return "quoted-printable"
}

func encodeBody(w io.Writer, cte string, body []byte) error {
	if cte == "quoted-printable" {
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(body); err != nil {
			return err
		}
		return qp.Close()
	}
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		if _, err := io.WriteString(w, enc[:76]+"\r\n"); err != nil {
			return err
		}
		enc = enc[76:]
	}
	_, err := io.WriteString(w, enc+"\r\n")
	return err
}
