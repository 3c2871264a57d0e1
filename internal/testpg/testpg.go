// Package testpg runs a private, throwaway PostgreSQL cluster for one test: initdb in a
// temporary directory, pg_ctl on a free loopback port, trust authentication. Tests
// that stop, restart or exhaust the database use it, so that the machine's shared
// cluster (which other tests use at the same time) is never touched.
//
// As root it runs the server as the "postgres" user (runuser), as PostgreSQL refuses
// to run as root; otherwise as the current user. The binaries come from pg_config
// --bindir or the newest /usr/lib/postgresql/<version>/bin (Debian's postgresql
// package, which scripts/test.sh installs).
package testpg

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Options tune the cluster.
type Options struct {
	// MaxConnections is PostgreSQL's max_connections (100, its default, if 0).
	MaxConnections int
}

// Cluster is one private PostgreSQL server.
type Cluster struct {
	Port int
	dir  string
	bin  string
	opts Options

	mu      sync.Mutex
	running bool
}

// Start initializes and starts a cluster; it is stopped and removed when the test
// ends. It fails the test (never skips) when PostgreSQL's binaries are missing.
func Start(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		tb.Fatalf("testpg: %v (apt-get install postgresql)", err)
	}
	dir, err := os.MkdirTemp("", "sally-testpg-")
	if err != nil {
		tb.Fatalf("testpg: %v", err)
	}
	c := &Cluster{dir: dir, bin: bin, opts: opts, Port: freePort(tb)}
	tb.Cleanup(func() {
		c.stop()
		_ = os.RemoveAll(dir)
	})
	if err := c.chown(); err != nil {
		tb.Fatalf("testpg: %v", err)
	}
	if out, err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		tb.Fatalf("testpg: initdb: %v\n%s", err, out)
	}
	c.Start(tb)
	return c
}

// URL is the cluster's postgres database, for lib/pq.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
}

// Start starts the (stopped) cluster on its port and waits until it accepts
// connections.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	maxConns := c.opts.MaxConnections
	if maxConns == 0 {
		maxConns = 100
	}
	o := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=%d -c fsync=off -c full_page_writes=off",
		c.Port, c.dir, maxConns)
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-o", o, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		tb.Fatalf("testpg: start: %v\n%s\n%s", err, out, log)
	}
	c.mu.Lock()
	c.running = true
	c.mu.Unlock()
}

// Stop stops the cluster at once (fast shutdown: connections are cut).
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := c.stop(); err != nil {
		tb.Fatalf("testpg: stop: %v\n%s", err, out)
	}
}

func (c *Cluster) stop() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil, nil
	}
	c.running = false
	return c.run("pg_ctl", "-D", c.data(), "-m", "fast", "-w", "-t", "60", "stop")
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// run runs one of PostgreSQL's programs, as the postgres user when we are root.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	prog := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

// chown gives the directory to the postgres user when we are root.
func (c *Cluster) chown() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(c.dir, uid, gid)
}

// binDir finds PostgreSQL's server programs.
func binDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("initdb not found (pg_config --bindir, /usr/lib/postgresql/*/bin)")
}

// freePort asks the kernel for a free loopback port.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testpg: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
