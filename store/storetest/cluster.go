package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// throwawayCluster starts a Postgres cluster in a temp dir when initdb and
// pg_ctl are on PATH and nothing listens at the default address, so `make test`
// works on a laptop with Postgres installed but not running. It is stopped when
// t ends. initdb refuses to run as root, so this path is for ordinary users.
func throwawayCluster(t testing.TB) (string, bool) {
	t.Helper()
	initdb, err1 := exec.LookPath("initdb")
	pgctl, err2 := exec.LookPath("pg_ctl")
	if err1 != nil || err2 != nil || os.Geteuid() == 0 {
		return "", false
	}
	dir, err := os.MkdirTemp("", "seatsync-pg-")
	if err != nil {
		return "", false
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(initdb, "-D", data, "-U", "postgres", "-A", "trust").CombinedOutput(); err != nil {
		t.Logf("initdb: %v: %s", err, out)
		return "", false
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", false
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	if out, err := exec.Command(pgctl, "-D", data, "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		t.Logf("pg_ctl start: %v: %s", err, out)
		return "", false
	}
	t.Cleanup(func() {
		_ = exec.Command(pgctl, "-D", data, "-m", "immediate", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), true
}
