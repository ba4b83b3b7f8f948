//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file runs seatsync as real child processes for the fault tests
// (faults_test.go), starts a throwaway Postgres cluster the tests may stop,
// and puts a proxy in front of the fake WorkOS that can go away.

// childEnv makes the test binary itself be seatsync: started with it, the
// binary runs main (with the arguments it was given) before any test and
// exits. The children are thus the code under test, built by `go test` with
// its flags (the race detector under `make test`), with no separate build.
const childEnv = "SEATSYNC_FAULTS_CHILD"

func init() {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
}

// seatsyncBinary is the command that runs seatsync: this test binary.
func seatsyncBinary(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// seatsyncCommand is `seatsync args…` as a child process with env.
func seatsyncCommand(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SEATSYNC_") && !strings.HasPrefix(kv, "GORACE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// The race detector waits 1 s at exit by default; shutdown times are the product's.
	cmd.Env = append(cmd.Env, childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	cmd.Env = append(cmd.Env, env...)
	// Never outlive the test binary, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// freeLoopback returns a loopback address nothing listens on right now. The
// port comes from below Linux's ephemeral range (32768–60999), where neither
// outgoing connections nor listeners on port 0 take ports, so a child can
// still bind it a moment later.
func freeLoopback(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if handedOut.ports[port] {
			continue // given to another child that may not listen yet
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		l, err := net.Listen("tcp", addr)
		if err == nil {
			_ = l.Close()
			handedOut.ports[port] = true
			return addr
		}
	}
	t.Fatal("no free loopback port in 20000–31999")
	return ""
}

var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// outputFile is where a child writes its log: a file, not a pipe, so a
// busy test process never slows the child down by reading it late.
type outputFile struct{ f *os.File }

func newOutputFile(t testing.TB, name string) *outputFile {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return &outputFile{f: f}
}

// String is everything written so far.
func (o *outputFile) String() string {
	b, _ := os.ReadFile(o.f.Name())
	return string(b)
}

// childProc is one `seatsync serve` child process; restart reuses its ports.
type childProc struct {
	t     testing.TB
	name  string
	bin   string
	env   []string
	addr  string // main listener
	debug string // http.debug_listen (pprof)
	url   string // http://addr
	out   *outputFile

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	exit   error
	exitAt time.Time
}

// replicaEnv is the configuration of a child replica: Postgres at dbURL with
// application_name=name (so pg_stat_activity tells replicas apart), the test
// secrets, and the rules of testConfig, so its seats match an in-process reference.
func replicaEnv(name, dbURL string, extra ...string) []string {
	u, err := url.Parse(dbURL)
	if err == nil {
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		dbURL = u.String()
	}
	env := []string{
		"SEATSYNC_DATABASE_DRIVER=postgres", "SEATSYNC_DATABASE_URL=" + dbURL, "SEATSYNC_DATABASE_MAX_OPEN_CONNS=12",
		"SEATSYNC_WEBHOOKS_SECRETS=" + testSecret, "SEATSYNC_AUTH_JWT_SECRET=" + testJWTSecret,
		"SEATSYNC_SEATS_CUTOVER_GRACE=0s", "SEATSYNC_LOG_LEVEL=warn", "SEATSYNC_HTTP_API_RATE=0",
	}
	return append(env, extra...)
}

// startChild starts a replica and waits until /readyz answers 200.
func startChild(t testing.TB, bin, name string, env []string) *childProc {
	t.Helper()
	p := &childProc{t: t, name: name, bin: bin, env: env, addr: freeLoopback(t), debug: freeLoopback(t), out: newOutputFile(t, name)}
	p.url = "http://" + p.addr
	t.Cleanup(func() {
		if p.running() {
			_ = p.signal(syscall.SIGKILL)
			p.wait(10 * time.Second)
		}
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", p.name, lastLines(p.out.String(), 40))
		}
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("%s: the race detector reported a data race:\n%s", p.name, lastLines(p.out.String(), 80))
		}
	})
	p.start()
	return p
}

// start runs the process (again) and waits for /readyz.
func (p *childProc) start() {
	p.t.Helper()
	cmd := seatsyncCommand(p.bin, append(p.env, "SEATSYNC_LISTEN="+p.addr, "SEATSYNC_HTTP_DEBUG_LISTEN="+p.debug), "serve")
	cmd.Stdout, cmd.Stderr = p.out.f, p.out.f
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.exit = cmd, done, nil
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exit, p.exitAt = err, time.Now()
		p.mu.Unlock()
		close(done)
	}()
	p.waitReady(60 * time.Second)
}

func (p *childProc) waitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if !p.running() {
			p.t.Fatalf("%s exited before it was ready: %v\n%s", p.name, p.exitErr(), lastLines(p.out.String(), 40))
		}
		res, err := client.Get(p.url + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready after %v (last: %v)\n%s", p.name, timeout, err, lastLines(p.out.String(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *childProc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (p *childProc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

func (p *childProc) signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Signal(sig)
}

// wait waits for the process to exit; false if it is still running after d.
func (p *childProc) wait(d time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *childProc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

func (p *childProc) exitedAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitAt
}

// goroutines reads the process's goroutine count from its pprof listener.
func (p *childProc) goroutines() (int, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	res, err := client.Get("http://" + p.debug + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	// "goroutine profile: total 42"
	f := strings.Fields(line)
	if len(f) == 0 {
		return 0, fmt.Errorf("goroutine profile: %q", line)
	}
	return strconv.Atoi(f[len(f)-1])
}

// goroutinesIn counts the process's goroutines whose stack passes through
// fn (a function name as pprof prints it, e.g. "store.(*InboxWriter).PutInbox").
func (p *childProc) goroutinesIn(fn string) (int, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	res, err := client.Get("http://" + p.debug + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	// Blocks of identical stacks: "<count> @ 0x…" then "#\t0x… pkg.func+0x… file:line" lines.
	n := 0
	for _, block := range strings.Split(string(b), "\n\n") {
		count, _, ok := strings.Cut(block, " @ ")
		if !ok || !strings.Contains(block, fn+"+") {
			continue
		}
		if c, err := strconv.Atoi(strings.TrimSpace(count)); err == nil {
			n += c
		}
	}
	return n, nil
}

// rss reads the process's resident set size in bytes from /proc.
func (p *childProc) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// lastLines returns the last lines of s.
func lastLines(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// pgCluster is a throwaway Postgres cluster the test may stop and start. As
// root it runs as the postgres OS user, since initdb refuses root.
type pgCluster struct {
	t    testing.TB
	dir  string
	data string
	port int
	opts string
}

func startCluster(t testing.TB) *pgCluster {
	t.Helper()
	for _, tool := range []string{"initdb", "pg_ctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the Postgres fault test starts its own cluster and needs %s on PATH (Postgres server binaries): %v", tool, err)
		}
	}
	// Not t.TempDir: its parents are private to this user, and the cluster may run as postgres.
	dir, err := os.MkdirTemp("", "seatsync-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{t: t, dir: dir, data: filepath.Join(dir, "data")}
	t.Cleanup(func() {
		_ = c.pgctl("-D", c.data, "-m", "immediate", "stop")
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the Postgres fault test needs the postgres OS user (initdb refuses root): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	port, _ := strconv.Atoi(freeLoopback(t)[len("127.0.0.1:"):])
	c.port = port
	c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=60", port, dir)
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "--locale=C.UTF-8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.start()
	return c
}

// run runs a Postgres tool, as the postgres user when this process is root.
func (c *pgCluster) run(tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", tool}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, tool, args...)
	}
	return cmd.CombinedOutput()
}

func (c *pgCluster) pgctl(args ...string) error {
	out, err := c.run("pg_ctl", args...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the cluster (after initdb or a stop) on its port and waits for it.
func (c *pgCluster) start() {
	c.t.Helper()
	if err := c.pgctl("-D", c.data, "-o", c.opts, "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "120", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
		c.t.Fatalf("%v\n%s", err, lastLines(string(log), 20))
	}
}

// crash stops the cluster the hard way: every backend is killed, no checkpoint.
func (c *pgCluster) crash() {
	c.t.Helper()
	if err := c.pgctl("-D", c.data, "-m", "immediate", "stop"); err != nil {
		c.t.Fatal(err)
	}
}

func (c *pgCluster) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// flakyProxy stands in front of the fake WorkOS on a fixed address: up it
// forwards, failing it answers 500 itself, down nothing listens there
// (connection refused) and every open connection is cut.
type flakyProxy struct {
	t      testing.TB
	addr   string
	target *url.URL
	mu     sync.Mutex
	srv    *http.Server
	fail   bool
}

func newFlakyProxy(t testing.TB, target string) *flakyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{t: t, addr: freeLoopback(t), target: u}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *flakyProxy) url() string { return "http://" + p.addr }

func (p *flakyProxy) up() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = false
	if p.srv != nil {
		return
	}
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago; retry while the kernel lets go of it
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	rp := httputil.NewSingleHostReverseProxy(p.target)
	// A request cut by down() is WorkOS going away, not worth a log line.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	p.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		fail := p.fail
		p.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"Internal Server Error"}`))
			return
		}
		rp.ServeHTTP(w, r)
	})}
	srv := p.srv
	go func() { _ = srv.Serve(ln) }()
}

// down closes the listener and every connection: WorkOS is gone.
func (p *flakyProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		_ = p.srv.Close()
		p.srv = nil
	}
}

// failing makes every request answer 500, as an unwell WorkOS does.
func (p *flakyProxy) failing() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = true
}
