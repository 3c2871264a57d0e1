// Package mail sends email over SMTP with github.com/wneessen/go-mail: STARTTLS,
// implicit TLS or plain connections, AUTH when a user is configured, and errors that
// say whether trying again can help (a 4xx answer or an unreachable server) or not
// (a 5xx answer).
//
// It is a leaf: it knows nothing of alerts. The alert package declares the Sender it
// needs, and the server passes a *Sender to it.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes (SMTP_TLS).
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS (required)
	TLSImplicit = "tls"      // TLS from the first byte (usually port 465)
	TLSNone     = "none"     // no TLS at all (a relay on a trusted network)
)

// Named defaults.
const (
	DefaultPort    = 587
	DefaultTLS     = TLSStartTLS
	DefaultTimeout = 30 * time.Second // connect and each command
)

// ErrNoHost refuses a Sender without a host.
var ErrNoHost = errors.New("mail: no SMTP host")

// Options configure a Sender; Host and From are required.
type Options struct {
	Host     string
	Port     int    // DefaultPort when 0
	Username string // empty = no AUTH
	Password string
	TLS      string // TLSStartTLS (default), TLSImplicit or TLSNone
	From     string // the envelope and header sender, e.g. alerts@sally.app
	// TLSConfig overrides the TLS settings (tests trust their own certificate with
	// it); ServerName defaults to Host.
	TLSConfig *tls.Config
	Timeout   time.Duration // DefaultTimeout when 0
}

// Message is one email with a plain-text and an HTML body (sent as
// multipart/alternative).
type Message struct {
	// ID is the Message-ID, angle brackets included ("<id@domain>"). Sending the same
	// message again with the same ID lets mail systems recognise the duplicate.
	ID      string
	To      []string
	Subject string
	Text    string
	HTML    string
	Date    time.Time // zero = now
	// InReplyTo is the Message-ID (brackets included) this message follows up, so
	// that mail clients thread it under the original; empty for none.
	InReplyTo string
}

// Sender delivers messages through one SMTP server. It is safe for concurrent use:
// each Send opens its own connection.
type Sender struct {
	opts Options
	from *mail.Address
}

// New checks the options and returns a Sender; it does not connect.
func New(o Options) (*Sender, error) {
	if strings.TrimSpace(o.Host) == "" {
		return nil, ErrNoHost
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Port < 1 || o.Port > 65535 {
		return nil, fmt.Errorf("mail: bad SMTP port %d", o.Port)
	}
	if o.TLS == "" {
		o.TLS = DefaultTLS
	}
	switch o.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("mail: bad TLS mode %q (want %s, %s or %s)", o.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail: bad sender address %q: %w", o.From, err)
	}
	return &Sender{opts: o, from: from}, nil
}

// Send delivers m. A failure is an *Error: Permanent when the server refused with a
// 5xx (or the message itself is unusable), temporary otherwise.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return &Error{Err: err, permanent: true}
	}
	c, err := gomail.NewClient(s.opts.Host, s.clientOptions()...)
	if err != nil {
		return &Error{Err: fmt.Errorf("smtp client: %w", err), permanent: true}
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if msg.IsDelivered() {
			// Accepted; only the goodbye (QUIT) failed. Not a reason to send it again.
			return nil
		}
		return classify(err)
	}
	return nil
}

func (s *Sender) clientOptions() []gomail.Option {
	o := s.opts
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tc = o.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = o.Host
	}
	opts := []gomail.Option{gomail.WithTimeout(o.Timeout), gomail.WithTLSConfig(tc)}
	switch o.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	opts = append(opts, gomail.WithPort(o.Port)) // after WithSSL, which sets 465
	if o.Username != "" {
		opts = append(opts, gomail.WithUsername(o.Username), gomail.WithPassword(o.Password))
		// The strongest mechanism the server offers. PLAIN and LOGIN go over TLS only,
		// unless SMTP_TLS=none says the operator chose an unencrypted relay.
		mechs := []gomail.SMTPAuthType{
			gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5,
			gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
		}
		if o.TLS == TLSNone {
			mechs = append(mechs[:3], gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc)
		}
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(mechs...))
	}
	return opts
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("no recipients")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	msg.Subject(oneLine(m.Subject))
	if m.ID != "" {
		msg.SetMessageIDWithValue(strings.Trim(m.ID, "<>"))
	} else {
		msg.SetMessageID()
	}
	if m.InReplyTo != "" {
		msg.SetGenHeader(gomail.HeaderInReplyTo, m.InReplyTo)
		msg.SetGenHeader(gomail.HeaderReferences, m.InReplyTo)
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	// RFC 3834: a machine wrote this; vacation responders should not answer it.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// oneLine keeps a header value on one line whatever it was given.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\r' || r == '\n' || r == '\t'
	}), " ")
}

// Error is a failed Send: the server's reply code (0 when there was no reply, e.g.
// the server was unreachable) and whether trying again can help.
type Error struct {
	Code      int
	Err       error
	permanent bool
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("smtp (%s): %v", kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports that sending the same message again will fail the same way: the
// server answered 5xx, or the message or settings are unusable.
func (e *Error) Permanent() bool { return e.permanent }

// IsPermanent reports whether err is an *Error that is Permanent.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.permanent
}

// classify turns what go-mail returned into an *Error: a 5xx reply is permanent;
// 4xx replies, refused connections, timeouts and TLS trouble are temporary.
func classify(err error) *Error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return &Error{Code: code, Err: err, permanent: !se.IsTemp() && code >= 500}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return &Error{Code: te.Code, Err: err, permanent: te.Code >= 500}
	}
	return &Error{Err: err}
}
