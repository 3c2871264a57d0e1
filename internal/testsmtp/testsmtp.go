// Package testsmtp is a real SMTP server for tests, in process (github.com/emersion/
// go-smtp): it records every message it accepts, can be stopped and started again on
// the same port (a mail server that goes down and comes back), can answer 4xx or 5xx
// on demand, and speaks STARTTLS, implicit TLS and AUTH PLAIN when asked to.
//
// It is for _test.go files only.
package testsmtp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Security is how clients reach the server.
type Security int

// The security modes, matching SMTP_TLS's none, starttls and tls.
const (
	Plain    Security = iota // no TLS offered
	StartTLS                 // STARTTLS offered (and required before AUTH)
	TLS                      // implicit TLS from the first byte
)

// Options configure a Server; the zero value is a plain server without AUTH.
type Options struct {
	Security Security
	// Username and Password, when set, require AUTH PLAIN with them before MAIL.
	Username, Password string
}

// Message is one accepted message, as received.
type Message struct {
	From string
	To   []string
	Data []byte // the raw message (headers and body)
}

// Reply is an answer the server gives instead of accepting a message.
type Reply struct {
	Code    int    // 4xx (temporary) or 5xx (permanent)
	Message string // text after the code
}

// Server is a running (or stopped) SMTP server on a fixed 127.0.0.1 port.
type Server struct {
	opts Options
	addr string
	cert tls.Certificate
	pool *x509.CertPool

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	msgs     []Message
	reply    *Reply
	replyN   int // how many more messages get reply; <0 = until cleared
	attempts int // MAIL commands received
	notify   chan struct{}
}

// New starts a server on a free port of 127.0.0.1 and stops it when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{opts: opts, notify: make(chan struct{})}
	if opts.Security != Plain {
		s.cert, s.pool = selfSigned(tb)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testsmtp: listen: %v", err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return s.addr }

// Host is the server's host (127.0.0.1).
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port is the server's port, the same across Stop and Start.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLSConfig trusts the server's self-signed certificate (nil for Plain).
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.pool == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.pool, ServerName: s.Host(), MinVersion: tls.VersionTLS12}
}

// Stop closes the listener and every connection: clients now get "connection
// refused". Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Close the listener ourselves too: Serve may not have registered it yet.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Start listens again on the same port after Stop. It retries briefly in case the
// port is still being released.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		return
	}
	var l net.Listener
	require.EventuallyWithT(tb, func(c *assert.CollectT) {
		var err error
		l, err = net.Listen("tcp", s.addr)
		require.NoError(c, err)
	}, 5*time.Second, 50*time.Millisecond, "testsmtp: listen again on %s", s.addr)
	s.serve(l)
}

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.AllowInsecureAuth = s.opts.Security == Plain
	if s.opts.Security != Plain {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
	}
	if s.opts.Security == TLS {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	s.mu.Lock()
	s.srv, s.ln = srv, l
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Reject makes the server answer the next n messages (n < 0: every message until
// Accept) with code and text at MAIL FROM, instead of accepting them.
func (s *Server) Reject(code int, text string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply, s.replyN = &Reply{Code: code, Message: text}, n
}

// Accept clears Reject.
func (s *Server) Accept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply, s.replyN = nil, 0
}

// Attempts counts the MAIL FROM commands received, rejected ones included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Messages returns a copy of the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the accepted messages once there are at least n, failing the test
// after timeout.
func (s *Server) Wait(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, ch := len(s.msgs), s.notify
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-ch:
		case <-deadline:
			tb.Fatalf("testsmtp: %d message(s) after %s, want %d", got, timeout, n)
			return nil
		}
	}
}

func (s *Server) mailAttempt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.reply == nil {
		return nil
	}
	r := s.reply
	if s.replyN > 0 {
		s.replyN--
		if s.replyN == 0 {
			s.reply = nil
		}
	}
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: r.Message}
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.notify)
	s.notify = make(chan struct{})
}

// session is one SMTP connection's transaction state.
type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.opts.Username || pass != ss.s.opts.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if err := ss.s.mailAttempt(); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.record(Message{From: ss.from, To: append([]string(nil), ss.to...), Data: b})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool trusting it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testsmtp: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testsmtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("testsmtp: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testsmtp: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Parsed is a received message taken apart: its headers and its decoded text and
// HTML parts.
type Parsed struct {
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// ContentType is the top-level media type (e.g. multipart/alternative).
	ContentType string
	Text        string // the text/plain part, decoded ("" if absent)
	HTML        string // the text/html part, decoded ("" if absent)
	Parts       int    // leaf parts found
}

// Parse takes a received message apart with the standard library's MIME readers, so
// a message that does not parse fails the test.
func Parse(tb testing.TB, m Message) Parsed {
	tb.Helper()
	p, err := ParseBytes(m.Data)
	if err != nil {
		tb.Fatalf("testsmtp: parse message: %v\n%s", err, m.Data)
	}
	return p
}

// ParseBytes is Parse for raw message bytes, returning the error.
func ParseBytes(raw []byte) (Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Parsed{}, fmt.Errorf("read message: %w", err)
	}
	out := Parsed{Header: msg.Header}
	dec := new(mime.WordDecoder)
	if out.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Parsed{}, fmt.Errorf("subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Parsed{}, fmt.Errorf("content type: %w", err)
	}
	out.ContentType = mt
	if err := walk(&out, mt, params, msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return Parsed{}, err
	}
	return out, nil
}

func walk(out *Parsed, mt string, params map[string]string, cte string, body io.Reader) error {
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			pmt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
			if err != nil {
				return fmt.Errorf("part content type: %w", err)
			}
			if err := walk(out, pmt, pparams, part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body) // skips CR and LF
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mt, err)
	}
	out.Parts++
	switch mt {
	case "text/plain":
		out.Text = string(b)
	case "text/html":
		out.HTML = string(b)
	}
	return nil
}
