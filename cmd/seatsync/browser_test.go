package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store/storetest"
)

var screenshotFlag = flag.String("screenshot", "",
	"TestBrowserAdminPage writes a full-page PNG screenshot of the plan page here (or set SEATSYNC_SCREENSHOT)")

// chromiumFlags are the only flags the browser is started with, besides a
// fresh --user-data-dir (chromedp adds the DevTools pipe and about:blank).
var chromiumFlags = []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
	"disable-component-update", "no-first-run"}

// chromium finds the browser; without one the test fails, never skips: CI
// installs it (.ci/run), and a skipped browser test proves nothing.
func chromium(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("Chromium is not installed (neither /usr/bin/chromium nor chromium on PATH): " +
		"install it with `apt-get install chromium`; this test fails rather than skips without it")
	return ""
}

// browser is one headless Chromium tab. Every step has its own deadline,
// and a failed step saves a screenshot before failing the test.
type browser struct {
	t     *testing.T
	ctx   context.Context
	mu    sync.Mutex
	shots string // where failure screenshots go; made on the first failure
}

const stepTimeout = 10 * time.Second

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium(t))}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts, chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	// The first action starts the browser, which then lives as long as the
	// context it ran with: that must be ctx itself, not a derived one with a
	// deadline, so a timer bounds this step instead.
	timer := time.AfterFunc(2*stepTimeout, cancel)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	if !timer.Stop() {
		err = fmt.Errorf("chromium did not start within %v: %w", 2*stepTimeout, err)
	}
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// do runs actions as one step.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// get runs one action that returns a value, as one step.
func get[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// text is the visible text of the first element matching css.
func (b *browser) text(css string) string {
	b.t.Helper()
	return get(b, "read "+css, chromedp.Text(chromedp.CSS(css)))
}

// waitLocation waits until the tab's URL satisfies ok.
func (b *browser) waitLocation(step string, ok func(string) bool) string {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var loc string
	for time.Now().Before(deadline) {
		loc = get(b, step, chromedp.Location())
		if ok(loc) {
			return loc
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fail(step, fmt.Errorf("location is still %s", loc))
	return ""
}

// fail saves a screenshot of the tab and fails the test.
func (b *browser) fail(step string, err error) {
	b.t.Helper()
	b.screenshotOnFailure(step)
	b.t.Fatalf("browser step %q: %v", step, err)
}

// check fails the test, with a screenshot, unless ok.
func (b *browser) check(ok bool, format string, args ...any) {
	b.t.Helper()
	if !ok {
		msg := fmt.Sprintf(format, args...)
		b.screenshotOnFailure(msg)
		b.t.Fatal(msg)
	}
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// screenshotOnFailure writes a full-page screenshot to a directory that
// outlives the test (t.TempDir would be removed with it) and logs where.
func (b *browser) screenshotOnFailure(step string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shots == "" {
		dir, err := os.MkdirTemp("", "seatsync-browser-test-")
		if err != nil {
			b.t.Logf("no screenshot: %v", err)
			return
		}
		b.shots = dir
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("no screenshot of the failed step: %v", err)
		return
	}
	name := filepath.Join(b.shots, fmt.Sprintf("%d-%s.png", time.Now().UnixMilli(), strings.Trim(unsafeName.ReplaceAllString(step, "-"), "-")))
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot of the failed step: %s", name)
}

// browserEvent is a WorkOS event envelope.
func browserEvent(id, typ string, at time.Time, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"object": "event", "id": id, "event": typ, "data": data, "created_at": at.Format(time.RFC3339Nano)})
	return b
}

// TestBrowserAdminPage drives the admin page in headless Chromium against a
// full instance fed by signed webhook deliveries: sign in through /login,
// read the plan's status after a cutover, filter the members, read the
// cutover in the audit timeline, and click Configure SCIM through to the
// (fake) WorkOS Admin Portal. With -screenshot FILE or SEATSYNC_SCREENSHOT=FILE
// it also writes a full-page screenshot of the plan page (docs/admin-page.png).
func TestBrowserAdminPage(t *testing.T) {
	br := newBrowser(t) // first: a missing Chromium fails before any set-up
	fake := workostest.New(t)
	opts := storetest.Options(t, "postgres")
	ti := startInstance(t, testConfig(t, opts, "SEATSYNC_WORKOS_API_KEY="+fake.APIKey, "SEATSYNC_WORKOS_ENDPOINT="+fake.URL,
		"SEATSYNC_WORKOS_PORTAL_RETURN_URL=https://billing.test/plans/{plan_id}"), true)

	// The billing system creates the plan for an organization set up in WorkOS.
	const planID, limit = "plan_team", 4
	workosOrg := fake.AddOrganization("Acme", planID)
	if code := ti.apiCall(t, http.MethodPut, "/api/v1/organizations/acme",
		map[string]any{"name": "Acme", "domains": []string{"acme.test"}}, nil); code != http.StatusOK {
		t.Fatalf("PUT organization: %d", code)
	}
	if code := ti.apiCall(t, http.MethodPut, "/api/v1/plans/"+planID, map[string]any{"organization_id": "acme", "name": "Acme Team",
		"admins": []string{"admin@acme.test"}, "test_mode_limit": limit, "workos_organization_id": workosOrg}, nil); code != http.StatusCreated {
		t.Fatalf("PUT plan: %d", code)
	}
	// Two seats given by hand before the directory; it will never list them.
	for _, m := range [][2]string{{"bob.smith@acme.test", "Bob Smith"}, {"carol.jones@acme.test", "Carol Jones"}} {
		if code := ti.apiCall(t, http.MethodPost, "/api/v1/plans/"+planID+"/members",
			map[string]any{"email": m[0], "name": m[1]}, nil); code != http.StatusCreated {
			t.Fatalf("add manual seat %s: %d", m[0], code)
		}
	}

	// Okta connects and assigns six people: the fifth is past the limit of
	// four, so the plan cuts over, and with no grace Bob and Carol move to
	// free at once. The waits spread the story over the chart.
	const dirID = "directory_01BROWSERTEST"
	base := time.Now().UTC().Add(-time.Minute)
	seq := 0
	send := func(typ string, data map[string]any) string {
		seq++
		id := fmt.Sprintf("event_01BROWSER%03d", seq)
		if code := deliver(t, http.DefaultClient, ti.url, browserEvent(id, typ, base.Add(time.Duration(seq)*time.Second), data)); code != http.StatusOK {
			t.Fatalf("deliver %s %s: %d", typ, id, code)
		}
		return id
	}
	stamp := base.Format(time.RFC3339Nano)
	send("dsync.activated", map[string]any{"object": "directory", "id": dirID, "organization_id": workosOrg, "type": "okta scim v2.0",
		"state": "active", "name": "Acme Okta", "domains": []any{}, "created_at": stamp, "updated_at": stamp})
	people := [][2]string{{"Ada", "Lovelace"}, {"Grace", "Hopper"}, {"Alan", "Turing"}, {"Katherine", "Johnson"},
		{"Edsger", "Dijkstra"}, {"Barbara", "Liskov"}}
	userEvents := map[string]bool{}
	for i, p := range people {
		if i == 3 || i == 4 {
			settle(t, ti)
			time.Sleep(400 * time.Millisecond)
		}
		email := strings.ToLower(p[0] + "." + p[1] + "@acme.test")
		userEvents[send("dsync.user.created", map[string]any{"object": "directory_user", "id": fmt.Sprintf("directory_user_01BROWSER%d", i),
			"directory_id": dirID, "organization_id": workosOrg, "email": email, "first_name": p[0], "last_name": p[1],
			"state": "active", "idp_id": fmt.Sprintf("idp-%d", i), "created_at": stamp, "updated_at": stamp})] = true
	}
	settle(t, ti)
	var status struct {
		Mode  string `json:"mode"`
		Seats struct {
			Paid int `json:"paid"`
			Free int `json:"free"`
		} `json:"seats"`
	}
	if code := ti.apiCall(t, http.MethodGet, "/api/v1/plans/"+planID, nil, &status); code != http.StatusOK ||
		status.Mode != "directory" || status.Seats.Paid != 6 || status.Seats.Free != 2 {
		t.Fatalf("plan status = %d %+v, want directory mode, 6 paid, 2 free", code, status)
	}

	token, err := auth.Mint(testJWTSecret, auth.Principal{Email: "admin@acme.test"}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	pageURL := ti.url + "/plans/" + planID

	// Sign in: the token leaves the address bar, the session cookie is HttpOnly.
	br.do("sign in", chromedp.Navigate(ti.url+"/login?token="+token+"&next=/plans/"+planID), chromedp.WaitVisible(chromedp.ID("mode")))
	loc := get(br, "location after sign-in", chromedp.Location())
	br.check(loc == pageURL && !strings.Contains(loc, token), "after sign-in the location is %s, want %s without the token", loc, pageURL)
	cookies := get(br, "read document.cookie", chromedp.Evaluate[string]("document.cookie"))
	br.check(cookies == "", "the session cookie is readable from script: %q", cookies)

	// The status of a plan fed by real deliveries.
	mode := br.text("#mode")
	br.check(strings.Contains(strings.ToLower(mode), "directory"), "mode = %q, want directory", mode)
	br.check(br.text("#paid-seats") == "6" && br.text("#free-members") == "2", "seats = %s paid, %s free; want 6 and 2",
		br.text("#paid-seats"), br.text("#free-members"))
	br.check(br.text("#directory-type") == "Okta", "directory type = %q, want Okta", br.text("#directory-type"))
	managed := br.text("#managed")
	br.check(strings.Contains(managed, "Seats are managed by your identity provider (Okta)"), "managed notice = %q", managed)
	chart := br.text("#chart")
	br.check(strings.Contains(chart, "paid seats (from the audit log)") && strings.Contains(chart, "to 6 now"),
		"chart caption = %q", chart)

	// The cutover in the audit timeline, with its event.
	audit := br.text("#audit")
	br.check(strings.Contains(audit, "Cutover: the plan is now in directory mode — more than the test-mode limit of users added by Okta"),
		"no cutover entry in the timeline:\n%s", audit)
	entry := regexp.MustCompile(`bob\.smith@acme\.test moved to free — not assigned in Okta after cutover\s+[^\n]* · event (event_\w+)`).
		FindStringSubmatch(audit)
	br.check(entry != nil && userEvents[entry[1]], "no entry for Bob's move to free naming a delivered event:\n%s", audit)

	if path := screenshotPath(); path != "" {
		png := get(br, "screenshot", chromedp.FullScreenshot(100))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the plan page: %s", path)
	}

	// Filter the members: free ones whose email starts with "bob".
	br.do("filter members", chromedp.SetValue(chromedp.ID("tier"), "free"), chromedp.SendKeys(chromedp.ID("q"), "bob"),
		chromedp.Click(chromedp.ID("filter")))
	br.waitLocation("filtered page", func(l string) bool { return strings.Contains(l, "tier=free") && strings.Contains(l, "q=bob") })
	br.do("filtered table", chromedp.WaitVisible(chromedp.ID("members-table")))
	table := br.text("#members-table tbody")
	br.check(strings.Contains(table, "bob.smith@acme.test") && strings.Contains(table, "Bob Smith") &&
		!strings.Contains(table, "carol") && !strings.Contains(table, "ada.lovelace"), "filtered members:\n%s", table)
	br.do("all free members", chromedp.Clear(chromedp.ID("q")), chromedp.Click(chromedp.ID("filter")))
	br.waitLocation("free members", func(l string) bool { return strings.Contains(l, "tier=free") && !strings.Contains(l, "q=bob") })
	table = br.text("#members-table tbody")
	br.check(strings.Contains(table, "bob.smith@acme.test") && strings.Contains(table, "carol.jones@acme.test") &&
		!strings.Contains(table, "ada.lovelace"), "free members:\n%s", table)

	// Configure SCIM: a form post, answered with a redirect to the portal.
	br.do("click Configure SCIM", chromedp.Click(chromedp.ID("configure-scim")))
	portal := br.waitLocation("land on the WorkOS portal", func(l string) bool { return strings.HasPrefix(l, fake.URL+"/portal/setup?token=") })
	br.do("portal page", chromedp.WaitVisible(chromedp.ID("intent")))
	br.check(br.text("h1") == "WorkOS Admin Portal (fake)" && br.text("#intent") == "dsync" && br.text("#organization-id") == workosOrg,
		"portal page at %s: %q, intent %q, organization %q", portal, br.text("h1"), br.text("#intent"), br.text("#organization-id"))
}

func screenshotPath() string {
	if *screenshotFlag != "" {
		return *screenshotFlag
	}
	return os.Getenv("SEATSYNC_SCREENSHOT")
}
