package testsmtp_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/sallyhq/sally/internal/testsmtp"
)

const raw = "From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n" +
	"--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"caf=C3=A9 <b>\r\n" +
	"--XX\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	"PHA+Y2Fmw6k8L3A+\r\n" +
	"--XX--\r\n"

func send(t *testing.T, srv *testsmtp.Server) error {
	t.Helper()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail("a@example.com", []string{"b@example.com"}, strings.NewReader(raw))
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{})
	require.NoError(t, send(t, srv))
	msgs := srv.Wait(t, 1, 10*time.Second)
	require.Equal(t, "a@example.com", msgs[0].From)
	require.Equal(t, []string{"b@example.com"}, msgs[0].To)

	p := testsmtp.Parse(t, msgs[0])
	require.Equal(t, "café", p.Subject)
	require.Equal(t, "multipart/alternative", p.ContentType)
	require.Equal(t, 2, p.Parts)
	require.Equal(t, "café <b>", p.Text)
	require.Equal(t, "<p>café</p>", p.HTML)
}

func TestStopStartSamePort(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{})
	port := srv.Port()
	srv.Stop()
	require.Error(t, send(t, srv), "stopped: connection refused")
	srv.Start(t)
	require.Equal(t, port, srv.Port())
	require.NoError(t, send(t, srv))
	require.Len(t, srv.Messages(), 1)
}

func TestReject(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{})
	srv.Reject(451, "later", 1)
	var se *smtp.SMTPError
	require.True(t, errors.As(send(t, srv), &se))
	require.Equal(t, 451, se.Code)
	require.NoError(t, send(t, srv), "count 1: the next one goes through")

	srv.Reject(550, "no", -1)
	require.Error(t, send(t, srv))
	require.Error(t, send(t, srv))
	srv.Accept()
	require.NoError(t, send(t, srv))
	require.Len(t, srv.Messages(), 2)
	require.Equal(t, 5, srv.Attempts())
}

func TestTLSAndAuth(t *testing.T) {
	t.Parallel()
	srv := testsmtp.New(t, testsmtp.Options{Security: testsmtp.TLS, Username: "u", Password: "p"})
	c, err := smtp.DialTLS(srv.Addr(), srv.ClientTLSConfig())
	require.NoError(t, err)
	defer c.Close()
	require.Error(t, c.Mail("a@example.com", nil), "AUTH first")
	require.NoError(t, c.Auth(sasl.NewPlainClient("", "u", "p")))
	require.NoError(t, c.SendMail("a@example.com", []string{"b@example.com"}, strings.NewReader(raw)))
	require.Len(t, srv.Messages(), 1)

	_, err = tls.Dial("tcp", srv.Addr(), &tls.Config{MinVersion: tls.VersionTLS12}) //nolint:gosec // the point
	require.Error(t, err, "the certificate is trusted only through ClientTLSConfig")
}
