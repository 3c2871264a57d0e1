package alert

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/google/uuid"

	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/schema"
)

// Account emails share the alerts' outbox (durable, claimed once, retried with
// backoff) but are no alerts: they never fire, the alerts query leaves them out, and
// the set-password link they carry is stored sealed (CREDENTIALS_KEY) and wiped once
// the email is sent or given up.
const (
	KindInvitation    = "invitation"
	KindPasswordReset = "password_reset"
)

// AccountKinds are the outbox kinds that are not alerts.
func AccountKinds() []string { return []string{KindInvitation, KindPasswordReset} }

// IsAccountKind reports whether kind is an account email's.
func IsAccountKind(kind string) bool { return slices.Contains(AccountKinds(), kind) }

// AccountEmail is what an invitation or password-reset email says.
type AccountEmail struct {
	Kind        string // KindInvitation or KindPasswordReset
	TenantID    uuid.UUID
	TenantName  string
	To          string // the user's email
	RequestedBy string // the admin's email
	SealedLink  string // the set-password URL, sealed
	ExpiresAt   time.Time
	Now         time.Time
}

// QueueAccountEmail stores an account email in the outbox with c (a transaction's
// client, so that the email exists exactly when the link does); the worker sends it.
func QueueAccountEmail(ctx context.Context, c *ent.Client, e AccountEmail) error {
	if !IsAccountKind(e.Kind) {
		return fmt.Errorf("queue account email: unknown kind %q", e.Kind)
	}
	exp := e.ExpiresAt.UTC()
	title := "Your Sally account: set your password"
	msg := e.RequestedBy + " invited you to " + e.TenantName + " on Sally Integrations."
	if e.Kind == KindPasswordReset {
		title = "Sally: set a new password"
		msg = e.RequestedBy + " sent you a link to set a new password for " + e.TenantName + " on Sally Integrations."
	}
	return c.Alert.Create().SetTenantID(e.TenantID).SetKind(e.Kind).
		SetSeverity(entalert.SeverityINFO).SetTitle(title).SetMessage(msg).
		SetFiring(false).SetRecipients([]string{e.To}).
		SetDetails(schema.AlertDetails{
			TenantName: e.TenantName, RequestedBy: e.RequestedBy, SealedLink: e.SealedLink,
			LinkExpiresAt: &exp, OccurredAt: e.Now.UTC(),
		}).Exec(ctx)
}

// RenderAccount writes an account email with its link opened.
func RenderAccount(a *ent.Alert, link string) (Email, error) {
	v := accountView{Title: a.Title, Message: a.Message, Link: link, Tenant: a.Details.TenantName,
		Reset: a.Kind == KindPasswordReset}
	if a.Details.LinkExpiresAt != nil {
		v.Expires = when(*a.Details.LinkExpiresAt)
	}
	var text, html bytes.Buffer
	if err := accountText.Execute(&text, v); err != nil {
		return Email{}, fmt.Errorf("render text: %w", err)
	}
	if err := accountHTML.Execute(&html, v); err != nil {
		return Email{}, fmt.Errorf("render html: %w", err)
	}
	return Email{Subject: a.Title, Text: text.String(), HTML: html.String()}, nil
}

type accountView struct {
	Title, Message, Link, Tenant, Expires string
	Reset                                 bool
}

var accountText = texttemplate.Must(texttemplate.New("text").Parse(strings.TrimLeft(`
{{.Title}}

{{.Message}}

{{if .Reset}}Set a new password{{else}}Set your password and sign in{{end}}:
{{.Link}}

The link works once and until {{.Expires}}. If you did not expect this email, ignore it: {{if .Reset}}your current password keeps working{{else}}nothing happens without the link{{end}}.
--
Sally Integrations
`, "\n")))

var accountHTML = htmltemplate.Must(htmltemplate.New("html").Parse(strings.TrimLeft(`
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body style="margin:0;padding:24px;background:#f6f8fa;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2328;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:6px;">
<tr><td style="padding:20px 24px;">
<h1 style="margin:0 0 8px;font-size:20px;line-height:1.3;">{{.Title}}</h1>
<p style="margin:0 0 16px;font-size:14px;line-height:1.5;">{{.Message}}</p>
<p style="margin:0 0 16px;"><a href="{{.Link}}" style="display:inline-block;padding:8px 16px;background:#1f6feb;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600;">{{if .Reset}}Set a new password{{else}}Set your password{{end}}</a></p>
<p style="margin:0 0 8px;font-size:13px;color:#59636e;">Or open this address: <span style="word-break:break-all;">{{.Link}}</span></p>
<p style="margin:0;font-size:13px;color:#59636e;">The link works once and until {{.Expires}}. If you did not expect this email, ignore it: {{if .Reset}}your current password keeps working{{else}}nothing happens without the link{{end}}.</p>
</td></tr>
</table>
</body>
</html>
`, "\n")))
