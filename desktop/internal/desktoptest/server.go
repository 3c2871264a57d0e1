// Package desktoptest helps the desktop's tests: it runs the real server binary (built
// once per test binary from ./server) with the sandbox and the demo tenant, and it
// provides Loop, a stand-in for Fyne's UI goroutine under the test driver.
//
// The desktop speaks to the server only over the network, as any client does, so its
// tests start the server as a separate process and stop it to see the monitor go
// offline.
package desktoptest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Demo tenant login of every test server.
const (
	AdminEmail    = "admin@localhost"
	AdminPassword = "desktop-test-password-1234"
)

// DemoIntegrations are the names of the demo tenant's integrations.
var DemoIntegrations = []string{"Truckbase loads", "Samsara ELD", "Fuel Finder prices", "OpenWeather"}

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// Main runs the tests of a package and removes the server binary afterwards; call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds ./server once per test binary.
func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "sally-desktop-test-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "server")
		cmd := exec.Command("go", "build", "-o", buildBin, "./server")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./server: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatalf("desktoptest: %v", buildErr)
	}
	return buildBin
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(gomod), nil
}

// Server is a running server process with its own data directory.
type Server struct {
	tb      testing.TB
	bin     string
	dataDir string
	env     []string
	port    string

	// URL is the server's base URL, e.g. http://localhost:41234; it stays the same
	// across Restart.
	URL string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *bytes.Buffer
	out chan struct{} // closed when the process's stderr is drained
}

// FastPolicies make vendor failures quick to observe: two tries 50 ms apart, and the
// circuit opens after two failed calls.
var FastPolicies = []string{
	"RETRY_MAX_ATTEMPTS=2",
	"RETRY_BASE_DELAY=50ms",
	"RETRY_MAX_DELAY=100ms",
	"CIRCUIT_FAILURE_THRESHOLD=2",
	"CIRCUIT_OPEN_SECONDS=3600",
}

// StartServer starts the server on a free port in a fresh data directory, with the
// sandbox, the demo tenant and env (NAME=value) on top; it stops when the test ends.
func StartServer(tb testing.TB, env ...string) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: binary(tb), dataDir: tb.TempDir(), env: env, port: "0"}
	s.start()
	tb.Cleanup(func() {
		s.Stop()
		if tb.Failed() {
			s.mu.Lock()
			tb.Logf("server log:\n%s", s.log.String())
			s.mu.Unlock()
		}
	})
	return s
}

var listening = regexp.MustCompile(`msg=listening .*url=(\S+)`)

func (s *Server) start() {
	s.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.startOnce()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("desktoptest: start server: %v", err)
		}
		time.Sleep(200 * time.Millisecond) // e.g. the old port is not free yet
	}
}

func (s *Server) startOnce() error {
	cmd := exec.Command(s.bin)
	cmd.Env = append(os.Environ(),
		"PORT="+s.port,
		"DATA_DIR="+s.dataDir,
		"DATABASE_URL=",
		"ADMIN_EMAIL="+AdminEmail,
		"ADMIN_PASSWORD="+AdminPassword,
		"SANDBOX=true",
		"DEMO=true",
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
	)
	cmd.Env = append(cmd.Env, s.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	urlc := make(chan string, 1)
	done := make(chan struct{})
	s.mu.Lock()
	if s.log == nil {
		s.log = &bytes.Buffer{}
	}
	logBuf := s.log
	s.mu.Unlock()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			logBuf.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-done
		exited <- cmd.Wait()
	}()
	select {
	case u := <-urlc:
		s.mu.Lock()
		s.cmd, s.out = cmd, done
		s.mu.Unlock()
		if s.URL == "" {
			s.URL = u
			s.port = u[strings.LastIndex(u, ":")+1:]
		}
		go func() { <-exited }()
		return s.waitHealthy()
	case err := <-exited:
		return fmt.Errorf("server exited before listening: %v\n%s", err, s.logTail())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return fmt.Errorf("server did not log \"listening\" within 60s\n%s", s.logTail())
	}
}

func (s *Server) logTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.log.String()
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return b
}

func (s *Server) waitHealthy() error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s/healthz not OK within 30s", s.URL)
}

// Stop kills the server process (as a crash or a lost network would look to the
// desktop) and waits until it is gone. The data directory stays for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, out := s.cmd, s.out
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-out
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart() {
	s.tb.Helper()
	s.RestartWith()
}

// RestartWith restarts the server with env (NAME=value) added to its environment,
// e.g. a new JWT_SECRET that invalidates every token.
func (s *Server) RestartWith(env ...string) {
	s.tb.Helper()
	s.Stop()
	s.env = append(s.env, env...)
	s.start()
}

// Fault sets a sandbox fault of one vendor (samsara, truckbase, fuelfinder,
// openweather), e.g. `{"status":503}`.
func (s *Server) Fault(vendor, body string) {
	s.tb.Helper()
	s.control(http.MethodPut, "/sandbox/_control/faults/"+vendor, body)
}

// ClearFaults removes every sandbox fault.
func (s *Server) ClearFaults() {
	s.tb.Helper()
	s.control(http.MethodDelete, "/sandbox/_control/faults", "")
}

func (s *Server) control(method, path, body string) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.tb.Fatalf("desktoptest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Fatalf("desktoptest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		s.tb.Fatalf("desktoptest: %s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
}

// Fleet replaces the sandbox's fleet setting, e.g. `{"withoutClocks":2}` (a PUT
// replaces the whole setting: absent fields return to their defaults).
func (s *Server) Fleet(body string) {
	s.tb.Helper()
	s.control(http.MethodPut, "/sandbox/_control/fleet", body)
}
