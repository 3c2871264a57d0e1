package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testsmtp"
	"github.com/sallyhq/sally/mail"
)

func message() mail.Message {
	return mail.Message{
		ID:        "<alert-1@sally.app>",
		To:        []string{"ann@example.com", "bob@example.com"},
		Subject:   "[ERROR] Integration \"Fleet\" is failing",
		Text:      "Plain body <b>not html</b>\n",
		HTML:      "<p>HTML body &lt;b&gt;</p>",
		Date:      time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		InReplyTo: "<alert-0@sally.app>",
	}
}

func sender(t *testing.T, srv *testsmtp.Server, o mail.Options) *mail.Sender {
	t.Helper()
	o.Host, o.Port = srv.Host(), srv.Port()
	if o.From == "" {
		o.From = "alerts@sally.app"
	}
	o.TLSConfig = srv.ClientTLSConfig()
	o.Timeout = 10 * time.Second
	s, err := mail.New(o)
	require.NoError(t, err)
	return s
}

func TestSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		srv  testsmtp.Options
		opts mail.Options
	}{
		{"OKNone", testsmtp.Options{Security: testsmtp.Plain}, mail.Options{TLS: mail.TLSNone}},
		{"OKStartTLS", testsmtp.Options{Security: testsmtp.StartTLS}, mail.Options{TLS: mail.TLSStartTLS}},
		{"OKImplicitTLS", testsmtp.Options{Security: testsmtp.TLS}, mail.Options{TLS: mail.TLSImplicit}},
		{"OKAuthOverStartTLS",
			testsmtp.Options{Security: testsmtp.StartTLS, Username: "u", Password: "p"},
			mail.Options{TLS: mail.TLSStartTLS, Username: "u", Password: "p"}},
		{"OKAuthOverImplicitTLS",
			testsmtp.Options{Security: testsmtp.TLS, Username: "u", Password: "p"},
			mail.Options{TLS: mail.TLSImplicit, Username: "u", Password: "p"}},
		{"OKAuthWithoutTLSWhenConfigured",
			testsmtp.Options{Security: testsmtp.Plain, Username: "u", Password: "p"},
			mail.Options{TLS: mail.TLSNone, Username: "u", Password: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testsmtp.New(t, tt.srv)
			s := sender(t, srv, tt.opts)
			require.NoError(t, s.Send(context.Background(), message()))

			got := srv.Messages()
			require.Len(t, got, 1)
			require.Equal(t, "alerts@sally.app", got[0].From)
			require.Equal(t, []string{"ann@example.com", "bob@example.com"}, got[0].To)
			p := testsmtp.Parse(t, got[0])
			require.Equal(t, "multipart/alternative", p.ContentType)
			require.Equal(t, 2, p.Parts)
			require.Equal(t, `[ERROR] Integration "Fleet" is failing`, p.Subject)
			require.Equal(t, "<alert-1@sally.app>", p.Header.Get("Message-Id"))
			require.Equal(t, "<alert-0@sally.app>", p.Header.Get("In-Reply-To"))
			require.Equal(t, "<alert-0@sally.app>", p.Header.Get("References"))
			require.Equal(t, "auto-generated", p.Header.Get("Auto-Submitted"))
			date, err := p.Header.Date()
			require.NoError(t, err)
			require.True(t, date.Equal(message().Date))
			require.Equal(t, "Plain body <b>not html</b>\r\n", p.Text)
			require.Equal(t, "<p>HTML body &lt;b&gt;</p>", p.HTML)
		})
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		srv       testsmtp.Options
		opts      mail.Options
		setup     func(t *testing.T, srv *testsmtp.Server)
		permanent bool
		code      int
	}{
		{name: "ErrRejected5xxIsPermanent", opts: mail.Options{TLS: mail.TLSNone},
			setup:     func(_ *testing.T, srv *testsmtp.Server) { srv.Reject(550, "mailbox unavailable", -1) },
			permanent: true, code: 550},
		{name: "ErrRejected4xxIsTemporary", opts: mail.Options{TLS: mail.TLSNone},
			setup: func(_ *testing.T, srv *testsmtp.Server) { srv.Reject(451, "try again later", -1) },
			code:  451},
		{name: "ErrServerDownIsTemporary", opts: mail.Options{TLS: mail.TLSNone},
			setup: func(_ *testing.T, srv *testsmtp.Server) { srv.Stop() }},
		{name: "ErrWrongPasswordIsPermanent",
			srv:       testsmtp.Options{Security: testsmtp.StartTLS, Username: "u", Password: "p"},
			opts:      mail.Options{TLS: mail.TLSStartTLS, Username: "u", Password: "wrong"},
			permanent: true, code: 535},
		{name: "ErrNoStartTLSOfferedIsTemporary", opts: mail.Options{TLS: mail.TLSStartTLS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testsmtp.New(t, tt.srv)
			s := sender(t, srv, tt.opts)
			if tt.setup != nil {
				tt.setup(t, srv)
			}
			err := s.Send(context.Background(), message())
			require.Error(t, err)
			var me *mail.Error
			require.ErrorAs(t, err, &me)
			require.Equal(t, tt.permanent, me.Permanent(), "%v", err)
			require.Equal(t, tt.permanent, mail.IsPermanent(err))
			require.Equal(t, tt.code, me.Code, "%v", err)
			require.Empty(t, srv.Messages())
		})
	}
}

func TestSendRecoversWhenServerComesBack(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{})
	s := sender(t, srv, mail.Options{TLS: mail.TLSNone})
	srv.Stop()
	require.Error(t, s.Send(context.Background(), message()))
	srv.Start(t)
	require.NoError(t, s.Send(context.Background(), message()))
	require.Len(t, srv.Messages(), 1)
}

func TestSendHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{})
	s := sender(t, srv, mail.Options{TLS: mail.TLSNone})
	m := message()
	m.Subject = "hello\r\nBcc: victim@example.com"
	require.NoError(t, s.Send(context.Background(), m))
	got := srv.Messages()
	require.Len(t, got, 1)
	require.Equal(t, []string{"ann@example.com", "bob@example.com"}, got[0].To)
	p := testsmtp.Parse(t, got[0])
	require.Empty(t, p.Header.Get("Bcc"))
	require.Equal(t, "hello Bcc: victim@example.com", p.Subject)
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts mail.Options
		err  string
	}{
		{"OK", mail.Options{Host: "smtp.example.com", From: "alerts@sally.app"}, ""},
		{"OKNamedSender", mail.Options{Host: "smtp.example.com", From: "Sally <alerts@sally.app>"}, ""},
		{"ErrNoHost", mail.Options{From: "alerts@sally.app"}, "no SMTP host"},
		{"ErrBadTLS", mail.Options{Host: "h", TLS: "ssl", From: "alerts@sally.app"}, "bad TLS mode"},
		{"ErrBadPort", mail.Options{Host: "h", Port: 70000, From: "alerts@sally.app"}, "bad SMTP port"},
		{"ErrBadFrom", mail.Options{Host: "h", From: "not an address"}, "bad sender address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := mail.New(tt.opts)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), tt.err), "%v", err)
		})
	}
}

func TestSendNoRecipientsIsPermanent(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{})
	s := sender(t, srv, mail.Options{TLS: mail.TLSNone})
	m := message()
	m.To = nil
	err := s.Send(context.Background(), m)
	require.True(t, mail.IsPermanent(err), "%v", err)
	require.Zero(t, srv.Attempts())
}
