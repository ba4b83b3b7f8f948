package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

// TestReconcileCommand runs `seatsync reconcile` as the binary would, with
// output that is not a terminal: plain progress lines, then a summary.
func TestReconcileCommand(t *testing.T) {
	t.Parallel()
	fake := workostest.New(t)
	dir := fake.AddDirectory("org_RECONCILE", workostest.Directory{})
	for i := range 150 {
		fake.AddUsers(dir.ID, workostest.User{Email: fmt.Sprintf("user%d@example.com", i)})
	}
	environ := []string{"SEATSYNC_DATABASE_PATH=" + filepath.Join(t.TempDir(), "seatsync.db"),
		"SEATSYNC_AUTH_JWT_SECRET=" + testJWTSecret, "SEATSYNC_LOG_LEVEL=warn"}
	withKey := append([]string{"SEATSYNC_WORKOS_API_KEY=" + fake.APIKey, "SEATSYNC_WORKOS_ENDPOINT=" + fake.URL}, environ...)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"plans", "create", "plan_r", "--org", "example", "--name", "Team",
		"--admin", "admin@example.com", "--workos-org", "org_RECONCILE"}, &out, &out, environ); err != nil {
		t.Fatalf("plans create: %v\n%s", err, out.String())
	}

	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"reconcile", "--plan", "plan_r"}, &stdout, &stderr, environ)
	if err == nil || !strings.Contains(err.Error(), "workos.api_key") {
		t.Fatalf("without an API key: err = %v, want one naming workos.api_key", err)
	}

	stdout.Reset()
	stderr.Reset()
	if err := run(t.Context(), []string{"reconcile", "--plan", "plan_r"}, &stdout, &stderr, withKey); err != nil {
		t.Fatalf("reconcile: %v\nstderr: %s", err, stderr.String())
	}
	progress := stderr.String()
	if strings.ContainsAny(progress, "\r\x1b") {
		t.Errorf("progress has terminal control characters although stderr is no terminal: %q", progress)
	}
	for _, want := range []string{dir.ID + " (1/1): listing: 100 listed, 100 changed, 0 gone, 1 requests\n",
		dir.ID + " (1/1): done: 150 listed, 150 changed, 0 gone, 2 requests\n"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	summary := stdout.String()
	if !strings.HasPrefix(summary, "reconciled plan plan_r: 1 directory, 150 listed, 150 changed, 0 marked gone, 3 requests in ") {
		t.Errorf("summary = %q", summary)
	}

	stdout.Reset()
	err = run(t.Context(), []string{"reconcile", "--plan", "plan_nope"}, &stdout, &stderr, withKey)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown plan: err = %v", err)
	}
}

// On a terminal the progress is one line redrawn in place, ended at "done".
func TestReconcileProgressBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &progressPrinter{w: &buf, tty: true, width: 100}
	p.update(reconcile.Progress{DirectoryID: "directory_1", Directory: 1, Directories: 1, Phase: "listing", Listed: 50, Expected: 200})
	p.update(reconcile.Progress{DirectoryID: "directory_1", Directory: 1, Directories: 1, Phase: "done", Listed: 200, Expected: 200})
	p.finish()
	lines := strings.Split(buf.String(), "\r")
	if len(lines) != 3 || !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("output = %q, want two redraws of one line and one newline", buf.String())
	}
	bar := func(s string) string { return s[strings.Index(s, "[")+1 : strings.Index(s, "]")] }
	if b1, b2 := bar(lines[1]), bar(lines[2]); strings.Count(b1, "=") != len(b1)/4 || strings.Count(b2, "=") != len(b2) {
		t.Errorf("bars %q and %q, want a quarter and all filled", b1, b2)
	}
	// Nothing stored yet: the total is unknown, and a marker moves instead.
	buf.Reset()
	p.update(reconcile.Progress{DirectoryID: "directory_2", Directory: 1, Directories: 1, Phase: "listing", Listed: 100, Requests: 1})
	if !strings.Contains(buf.String(), "[ <=> ") {
		t.Errorf("unknown total: %q, want a marker", buf.String())
	}
}
