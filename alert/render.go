package alert

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/sallyhq/sally/ent"
	entalert "github.com/sallyhq/sally/ent/alert"
	"github.com/sallyhq/sally/ent/schema"
)

// Email is an alert rendered for sending.
type Email struct {
	Subject string // "[SEVERITY] title"
	Text    string // the text/plain part
	HTML    string // the text/html part; every value from users or vendors is escaped
}

// Render writes the email of an alert from what the alert row holds (title, message
// and the details snapshot taken when it was raised), so that it reads the same
// whenever it is delivered.
func Render(a *ent.Alert) (Email, error) {
	v := viewOf(a)
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, v); err != nil {
		return Email{}, fmt.Errorf("render text: %w", err)
	}
	if err := htmlTmpl.Execute(&html, v); err != nil {
		return Email{}, fmt.Errorf("render html: %w", err)
	}
	return Email{Subject: v.Subject, Text: text.String(), HTML: html.String()}, nil
}

// view is what the templates show.
type view struct {
	Subject  string
	Severity string
	Color    string // the severity's colour in the HTML part
	Title    string
	Message  string
	Rows     []row
	Checks   []string
	Tenant   string
	AlertID  string
	Recovery bool
	Link     string // the integration's page on the web console; "" = none
}

type row struct {
	Label, Value string
	Mono         bool // error text: shown as code
}

var severityColor = map[entalert.Severity]string{
	entalert.SeverityINFO:     "#1a7f37",
	entalert.SeverityWARNING:  "#9a6700",
	entalert.SeverityERROR:    "#cf222e",
	entalert.SeverityCRITICAL: "#82071e",
}

func viewOf(a *ent.Alert) view {
	d := a.Details
	v := view{
		Subject:  subject(a.Severity, a.Title),
		Severity: string(a.Severity),
		Color:    severityColor[a.Severity],
		Title:    a.Title,
		Message:  a.Message,
		Tenant:   d.TenantName,
		AlertID:  a.ID.String(),
		Recovery: a.Kind == KindRecovery,
		Link:     d.Link,
	}
	add := func(label, value string, mono bool) {
		if value != "" {
			v.Rows = append(v.Rows, row{label, value, mono})
		}
	}
	add("Integration", d.IntegrationName, false)
	add("Vendor", vendorName(d), false)
	switch a.Kind {
	case KindFailure:
		add("Failed syncs", fmt.Sprintf("%d within %d minutes (alert threshold %d)", d.Failures, d.WindowMinutes, d.Threshold), false)
		add("Last error", d.LastError, true)
		add("Circuit breaker", circuitLabel(d.CircuitState), false)
		add("Last successful sync", whenOrNever(d.LastSuccessAt), false)
	case KindStale:
		add("Last successful sync", whenOrNever(d.LastSuccessAt), false)
		if d.IntervalSeconds > 0 {
			add("Sync interval", duration(time.Duration(d.IntervalSeconds)*time.Second), false)
		}
		add("Last error", d.LastError, true)
	case KindCredentials:
		add("Vendor's answer", d.LastError, true)
		if d.CredentialFailures > 0 {
			add("Rejected syncs in a row", fmt.Sprint(d.CredentialFailures), false)
		}
		add("State", "NEEDS_CREDENTIALS: no syncs and no calls to the vendor until the key changes", false)
	case KindRecovery:
		add("Resolves", d.ResolvesTitle, false)
		if d.ResolvesRaisedAt != nil {
			add("Raised", when(*d.ResolvesRaisedAt), false)
		}
	}
	label := "Time"
	if a.Kind == KindRecovery {
		label = "Recovered"
	}
	add(label, when(d.OccurredAt), false)
	v.Checks = checks(a.Kind, a.Severity, d)
	return v
}

func subject(sev entalert.Severity, title string) string {
	return "[" + string(sev) + "] " + title
}

// checks says what an admin should look at, from what the failure was.
func checks(kind string, sev entalert.Severity, d schema.AlertDetails) []string {
	history := "Open the integration in Sally: its sync history shows every run and its error."
	switch kind {
	case KindRecovery:
		return []string{"Nothing: the integration synced successfully again. Its sync history shows what happened in between."}
	case KindCredentials:
		open := "Open the integration in Sally"
		if d.Link != "" {
			open += " (" + d.Link + ")"
		}
		return []string{
			"Get a valid API key from " + vendorName(d) + "'s dashboard: the key may have been revoked, rotated or lost its permissions.",
			open + ", press \"Enter a new key\", test it and save it: the integration becomes active and syncs at once.",
		}
	case KindStale:
		return []string{
			"That a Sally server is running: every server runs the scheduler, so if none is up, nothing syncs.",
			"Whether the integration's syncs are stuck: a sync that never finishes shows as RUNNING in its sync history.",
			"The server logs around the last successful sync.",
		}
	}
	var out []string
	if sev == entalert.SeverityCRITICAL || d.CircuitState == "OPEN" {
		out = append(out, "Calls to "+vendorName(d)+" are paused by the circuit breaker after repeated failures; they resume on their own with a probe call once the vendor answers again.")
	}
	switch d.ErrorClass {
	case "auth":
		out = append(out, "The vendor rejected the integration's credentials: check the API key in "+vendorName(d)+"'s dashboard and enter it again in Sally (edit the integration).")
	case "rate_limited":
		out = append(out, "The vendor is rate-limiting Sally: check your plan's API limits with "+vendorName(d)+", or lengthen the sync interval.")
	case "unavailable", "network", "timeout", "circuit_open":
		out = append(out, "Whether "+vendorName(d)+" is up: its status page, and the network between Sally and the vendor. Syncs keep retrying on their own.")
	case "bad_response":
		out = append(out, vendorName(d)+" answered with data Sally cannot read: contact the vendor or Sally support with the time above.")
	case "interrupted":
		out = append(out, "A Sally server stopped while the sync was running: check that the servers are not crashing or restarting.")
	case "internal":
		out = append(out, "Sally could not save the synced data: the server log has the details.")
	}
	return append(out, history)
}

// vendorName is the vendor as the alert's title named it when it was raised (its
// enum value in alerts stored before details kept the name).
func vendorName(d schema.AlertDetails) string {
	if d.VendorName != "" {
		return d.VendorName
	}
	return d.Vendor
}

func circuitLabel(s string) string {
	switch s {
	case "OPEN":
		return "open: calls to the vendor are paused"
	case "HALF_OPEN":
		return "half-open: probing the vendor"
	case "CLOSED":
		return "closed"
	}
	return s
}

// when formats a time for an email: UTC, to the second.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func whenOrNever(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return when(*t)
}

// duration says d in whole minutes, hours or days, as a person would.
func duration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < 2*time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	default:
		return plural(int64(d/(24*time.Hour)), "day")
	}
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(strings.TrimLeft(`
{{.Title}}

{{.Message}}
{{range .Rows}}
{{.Label}}: {{.Value}}{{end}}

{{if .Recovery}}What to do{{else}}What to check{{end}}:
{{range .Checks}}- {{.}}
{{end}}{{if .Link}}
Open the integration: {{.Link}}
{{end}}
--
Sally Integrations alert {{.AlertID}}{{if .Tenant}}, sent to the admins of {{.Tenant}}{{end}}.
You get one email when an incident starts and one when it is resolved.
`, "\n")))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(strings.TrimLeft(`
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:24px;background:#f6f8fa;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2328;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:6px;">
<tr><td style="padding:20px 24px;border-top:4px solid {{.Color}};border-radius:6px 6px 0 0;">
<div style="font-size:12px;font-weight:600;letter-spacing:.05em;color:{{.Color}};">{{.Severity}}</div>
<h1 style="margin:4px 0 8px;font-size:20px;line-height:1.3;">{{.Title}}</h1>
<p style="margin:0;font-size:14px;line-height:1.5;">{{.Message}}</p>
</td></tr>
<tr><td style="padding:0 24px 8px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="font-size:14px;border-collapse:collapse;">
{{- range .Rows}}
<tr><th align="left" valign="top" style="padding:6px 12px 6px 0;border-top:1px solid #eaeef2;white-space:nowrap;color:#59636e;font-weight:600;">{{.Label}}</th><td style="padding:6px 0;border-top:1px solid #eaeef2;">{{if .Mono}}<code style="font-family:SFMono-Regular,Consolas,'Liberation Mono',monospace;font-size:13px;word-break:break-word;">{{.Value}}</code>{{else}}{{.Value}}{{end}}</td></tr>
{{- end}}
</table>
</td></tr>
<tr><td style="padding:8px 24px 20px;">
<h2 style="margin:8px 0;font-size:15px;">{{if .Recovery}}What to do{{else}}What to check{{end}}</h2>
<ul style="margin:0;padding-left:20px;font-size:14px;line-height:1.5;">
{{- range .Checks}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- if .Link}}
<p style="margin:16px 0 0;"><a href="{{.Link}}" style="display:inline-block;padding:8px 16px;border-radius:6px;background:#1d4ed8;color:#ffffff;font-weight:600;font-size:14px;text-decoration:none;">Open the integration in Sally</a></p>
{{- end}}
</td></tr>
<tr><td style="padding:12px 24px;border-top:1px solid #eaeef2;font-size:12px;color:#59636e;">
Sally Integrations alert {{.AlertID}}{{if .Tenant}}, sent to the admins of {{.Tenant}}{{end}}.
You get one email when an incident starts and one when it is resolved.
</td></tr>
</table>
</body>
</html>
`, "\n")))
