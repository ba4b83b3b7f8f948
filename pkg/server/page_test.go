package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// clock is a settable time source for the applier.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type pageEnv struct {
	e     *echo.Echo
	st    *store.Store
	app   *applier.Applier
	clock *clock
}

// newPageServer builds the server over a fresh store of dialect with a
// settable applier clock and a 10-minute cutover grace, and seeds acme with
// plan_acme (admin admin@acme.test, WorkOS organization org_ACME) and
// plan_other (admin other@acme.test).
func newPageServer(t *testing.T, dialect string) *pageEnv {
	t.Helper()
	st := storetest.Open(t, dialect)
	av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	hv, err := webhooks.NewVerifier([]string{hookSecret}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC()}
	app := applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour, Now: clk.now})
	e := server.New(server.Deps{Store: st, Applier: app, Webhooks: webhooks.NewHandler(hv, st, maxBody, nil), Auth: av,
		Rules: rules, SessionSecret: jwtSecret})
	seed(t, e)
	return &pageEnv{e: e, st: st, app: app, clock: clk}
}

// page is one answer of a page request.
type page struct {
	status int
	header http.Header
	body   string
}

// get requests path with the session cookie ck (nil: none).
func get(t *testing.T, h http.Handler, path string, ck *http.Cookie) page {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
	req.Header.Set("Accept", "text/html")
	if ck != nil {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return page{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// want checks the status, that the answer is a page with the security
// headers, and that it contains each of contains.
func (p page) want(t *testing.T, status int, contains ...string) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d; body:\n%s", p.status, status, p.body)
	}
	if ct := p.header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
		echo.HeaderCacheControl: "no-store",
	} {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'none'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
		}
	}
	if strings.Contains(p.body, "<script") || strings.Contains(p.body, " style=") {
		t.Errorf("page has a script or an inline style, which the CSP forbids:\n%s", p.body)
	}
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			t.Errorf("page does not contain %q; body:\n%s", c, p.body)
		}
	}
	return p
}

func (p page) excludes(t *testing.T, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(p.body, b) {
			t.Errorf("page contains %q, which it must not", b)
		}
	}
}

var (
	hrefRE   = regexp.MustCompile(`<a href="([^"]*)"[^>]*>([^<]*)</a>`)
	csrfRE   = regexp.MustCompile(`action="([^"]*)"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]*)">`)
	rowRE    = regexp.MustCompile(`<td class="email">([^<]*)</td>`)
	actionRE = regexp.MustCompile(`<li class="entry act-`)
)

// link returns the href of the link with text, unescaped, without its fragment.
func (p page) link(t *testing.T, text string) string {
	t.Helper()
	for _, m := range hrefRE.FindAllStringSubmatch(p.body, -1) {
		if m[2] == text {
			// Browsers keep the fragment to themselves.
			u, _, _ := strings.Cut(html.UnescapeString(m[1]), "#")
			return u
		}
	}
	t.Fatalf("no link %q on the page", text)
	return ""
}

// csrfFor returns the CSRF token of the form posting to action.
func (p page) csrfFor(t *testing.T, action string) string {
	t.Helper()
	for _, m := range csrfRE.FindAllStringSubmatch(p.body, -1) {
		if html.UnescapeString(m[1]) == action {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("no form posting to %s with a CSRF token", action)
	return ""
}

// emails lists the member emails of the members table, unescaped.
func (p page) emails() []string {
	var out []string
	for _, m := range rowRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func sessionCookie(t *testing.T, h http.Handler, email string) *http.Cookie {
	t.Helper()
	rec, ck := login(t, h, "token="+mintTTL(t, email, time.Hour)+"&next=/plans/"+planID)
	if rec.Code != http.StatusSeeOther || ck == nil {
		t.Fatalf("login = %d, cookie %v", rec.Code, ck)
	}
	return ck
}

const (
	hostileEmail = `"'><script>alert(1)<!--@acme.test` // valid: no space, slash or backslash
	hostileName  = `<img src=x onerror=alert(1)> & "Eve"`
)

func activatedEvent(id string) string {
	return eventBody(id, "dsync.activated", map[string]any{"object": "directory", "id": dirID, "organization_id": workosOrg,
		"type": "okta scim v2.0", "state": "active", "name": "Acme Okta", "domains": []any{},
		"created_at": t0.Format(time.RFC3339Nano), "updated_at": t0.Format(time.RFC3339Nano)})
}

func TestPlanPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		pe := newPageServer(t, dialect)
		path := "/plans/" + planID

		// Without a session the page says where to sign in, as a page.
		get(t, pe.e, path, nil).want(t, http.StatusUnauthorized, "Sign-in needed", "billing settings", "session_required")
		get(t, pe.e, path, &http.Cookie{Name: secureCookie, Value: "forged.cookie"}).want(t, http.StatusUnauthorized, "invalid_session")
		expired := &http.Cookie{Name: secureCookie, Value: server.SessionCookieFor(jwtSecret, adminEmail, false, time.Now().Add(-time.Minute))}
		get(t, pe.e, path, expired).want(t, http.StatusUnauthorized, "session_expired")

		ck := sessionCookie(t, pe.e, adminEmail)
		// Another plan's admin gets exactly the page of a plan that does not exist.
		other := get(t, pe.e, path, sessionCookie(t, pe.e, otherAdmin)).want(t, http.StatusNotFound, "no such plan")
		missing := get(t, pe.e, "/plans/plan_nope", ck).want(t, http.StatusNotFound)
		if other.body != missing.body {
			t.Errorf("another admin's plan and a missing plan answer differently:\n%s\n---\n%s", other.body, missing.body)
		}
		get(t, pe.e, "/plans/bad%20id", ck).want(t, http.StatusNotFound, "no such plan")

		// Manual mode: 30 seats given by the admin, one with a hostile email and name.
		svc, admin := asService(t), asAdmin(t, adminEmail)
		scenario{method: http.MethodPut, path: "/api/v1/plans/" + planID, headers: svc, status: http.StatusOK,
			body: `{"organization_id":"acme","name":"Team <b>One</b>","admins":["admin@acme.test"],"workos_organization_id":"org_ACME","test_mode_limit":3}`}.do(t, pe.e)
		for i := range 29 {
			scenario{method: http.MethodPost, path: "/api/v1/plans/" + planID + "/members", headers: admin, status: http.StatusCreated,
				body: fmt.Sprintf(`{"email":"bob%02d@acme.test","name":"Bob %d"}`, i, i)}.do(t, pe.e)
		}
		scenario{method: http.MethodPost, path: "/api/v1/plans/" + planID + "/members", headers: admin, status: http.StatusCreated,
			body: fmt.Sprintf(`{"email":%q,"name":%q}`, hostileEmail, hostileName)}.do(t, pe.e)

		p := get(t, pe.e, path, ck).want(t, http.StatusOK, `<html lang="en">`, "Manual mode", `id="paid-seats">30<`,
			"No directory is connected", "Team &lt;b&gt;One&lt;/b&gt;", "Signed in as <strong>admin@acme.test</strong>",
			"&lt;img src=x onerror=alert(1)&gt; &amp; &#34;Eve&#34;", html.EscapeString(hostileEmail),
			"<th scope=\"col\">Email</th>", `<label for="q">`, `<label for="tier">`, "paid seats (from the audit log)")
		p.excludes(t, hostileName, "<b>One</b>", `id="managed"`, "<img src=x")
		// The Configure SCIM button shows, disabled: this server has no WorkOS API key.
		if !strings.Contains(p.body, `id="configure-scim" disabled`) {
			t.Error("Configure SCIM is not disabled without a WorkOS API key")
		}
		logoutCSRF := p.csrfFor(t, "/logout")

		// Pagination: 25 a page, a next link, then the rest and a link back.
		// (The order is the database's collation; the pages must just cover everyone once.)
		first := p.emails()
		if len(first) != 25 {
			t.Fatalf("first page = %d members, want 25: %v", len(first), first)
		}
		p2 := get(t, pe.e, p.link(t, "Next page"), ck).want(t, http.StatusOK)
		seen := map[string]bool{}
		for _, e := range append(first, p2.emails()...) {
			seen[e] = true
		}
		if n := len(p2.emails()); n != 5 || len(seen) != 30 || !seen[hostileEmail] || !seen["bob28@acme.test"] {
			t.Fatalf("second page = %v; %d distinct members over both pages, want 30", p2.emails(), len(seen))
		}
		if strings.Contains(p2.body, "Next page") {
			t.Error("the last page links to a next one")
		}
		if fp := p2.link(t, "First page"); !strings.HasPrefix(fp, path) || strings.Contains(fp, "after=") {
			t.Errorf("First page link = %q", fp)
		}
		// The timeline shows 20 entries, then pages to the older ones.
		if n := len(actionRE.FindAllString(p.body, -1)); n != 20 {
			t.Errorf("%d timeline entries, want 20", n)
		}
		older := get(t, pe.e, p.link(t, "Older entries"), ck).want(t, http.StatusOK, "bob00@acme.test was given a paid seat by an admin",
			"Newest entries")
		if n := len(actionRE.FindAllString(older.body, -1)); n != 10 {
			t.Errorf("%d older timeline entries, want 10", n)
		}

		// The directory arrives: test mode, then the cutover with the fourth user.
		deliver(t, pe.e, activatedEvent("event_activated"), "accepted")
		for i := 1; i <= 2; i++ {
			_, body := userEvent(fmt.Sprintf("directory_user_%d", i), fmt.Sprintf("user%d@acme.test", i), 1)
			deliver(t, pe.e, body, "accepted")
		}
		pe.drain(t)
		get(t, pe.e, path, ck).want(t, http.StatusOK, "Test mode", "2 of 3 test users", `id="paid-seats">32<`,
			`<p class="big" id="directory-type">Okta</p>`, "Acme Okta", `class="state state-active">active<`,
			"Seats are managed by your identity provider (Okta): assign or unassign people to the application there.",
			"The Okta directory was connected", "user1@acme.test got a paid seat — active in Okta")
		for i := 3; i <= 4; i++ {
			_, body := userEvent(fmt.Sprintf("directory_user_%d", i), fmt.Sprintf("user%d@acme.test", i), 1)
			deliver(t, pe.e, body, "accepted")
		}
		pe.drain(t)
		get(t, pe.e, path, ck).want(t, http.StatusOK, "Directory mode", "exactly the people assigned to the application in Okta",
			`id="downgrade"`, "Pending downgrade", "Cutover: the plan is now in directory mode — more than the test-mode limit of users added by Okta",
			`id="paid-seats">34<`)

		// The grace ends: everyone the directory does not list moves to free.
		pe.clock.add(11 * time.Minute)
		if n, err := pe.app.RunDueDowngrades(t.Context()); err != nil || n != 1 {
			t.Fatalf("RunDueDowngrades = %d, %v", n, err)
		}
		p = get(t, pe.e, path, ck).want(t, http.StatusOK, `id="paid-seats">4<`, `id="free-members">30<`,
			" moved to free — not assigned in Okta after cutover", "Cutover downgrade — cutover grace ended", "by seatsync")
		p.excludes(t, `id="downgrade"`, hostileEmail)
		// The 30 moves span two pages of the timeline; the hostile email's is escaped wherever it is.
		both := p.body + get(t, pe.e, p.link(t, "Older entries"), ck).want(t, http.StatusOK).body
		for _, want := range []string{"bob28@acme.test moved to free — not assigned in Okta after cutover",
			html.EscapeString(hostileEmail) + " moved to free — not assigned in Okta after cutover"} {
			if !strings.Contains(both, want) {
				t.Errorf("the timeline lacks %q", want)
			}
		}
		// The chart went up to 34 and ends at today's 4.
		if !strings.Contains(p.body, "Paid seats went from 0 on") || !strings.Contains(p.body, "to 4 now (highest: 34)") {
			t.Errorf("chart summary missing; body:\n%s", p.body)
		}

		// Filters: tier, email prefix, both, and LIKE wildcards match literally.
		for _, c := range []struct {
			query string
			want  []string
			n     int
		}{
			{"tier=paid", []string{"user1@acme.test", "user2@acme.test", "user3@acme.test", "user4@acme.test"}, 4},
			{"tier=free&q=bob2", []string{"bob20@acme.test"}, 9},
			{"tier=paid&q=bob", nil, 0},
			{"q=USER3", []string{"user3@acme.test"}, 1},
			{"q=" + url.QueryEscape(" user4@acme.test "), []string{"user4@acme.test"}, 1},
			{"q=user%25", nil, 0},
			{"q=user_", nil, 0},
			{"q=" + url.QueryEscape(`"'><script>`), []string{hostileEmail}, 1},
		} {
			got := get(t, pe.e, path+"?"+c.query, ck).want(t, http.StatusOK).emails()
			if len(got) != c.n || (len(c.want) > 0 && !strings.Contains(strings.Join(got, " "), c.want[0])) {
				t.Errorf("%s: members %v, want %d starting with %v", c.query, got, c.n, c.want)
			}
		}
		search := get(t, pe.e, path+"?tier=free&q="+url.QueryEscape(`"><b>x`), ck).want(t, http.StatusOK, "No members match.",
			`value="&#34;&gt;&lt;b&gt;x"`, `<option value="free" selected>`)
		search.excludes(t, `"><b>x`)

		for _, q := range []string{"tier=gold", "after=***", "audit_before=x", "audit_before=-1", "q=" + strings.Repeat("a", 300)} {
			get(t, pe.e, path+"?"+q, ck).want(t, http.StatusBadRequest, "Bad Request")
		}

		// The home page lists this admin's plans only.
		home := get(t, pe.e, "/", ck).want(t, http.StatusOK, `href="/plans/plan_acme"`, "Team &lt;b&gt;One&lt;/b&gt;")
		home.excludes(t, otherPlan)

		// Sign out: a CSRF-checked form that clears the cookie.
		post := func(form string) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/logout", strings.NewReader(form))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			req.Header.Set("Accept", "text/html")
			req.AddCookie(ck)
			rec := httptest.NewRecorder()
			pe.e.ServeHTTP(rec, req)
			return rec
		}
		if rec := post("csrf_token=wrong"); rec.Code != http.StatusForbidden || !strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), "text/html") {
			t.Errorf("logout with a wrong CSRF token = %d %s, want a 403 page", rec.Code, rec.Header().Get(echo.HeaderContentType))
		}
		rec := post(url.Values{"csrf_token": {logoutCSRF}}.Encode())
		if rec.Code != http.StatusSeeOther || rec.Header().Get(echo.HeaderLocation) != "/" {
			t.Fatalf("logout = %d to %q", rec.Code, rec.Header().Get(echo.HeaderLocation))
		}
		if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].Name != secureCookie || cs[0].MaxAge >= 0 {
			t.Errorf("logout cookies = %v, want %s cleared", cs, secureCookie)
		}
	})
}

func (pe *pageEnv) drain(t *testing.T) {
	t.Helper()
	if err := pe.app.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestPageAssets(t *testing.T) {
	t.Parallel()
	pe := newPageServer(t, "sqlite")
	p := get(t, pe.e, "/plans/"+planID, sessionCookie(t, pe.e, adminEmail))
	css := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(p.body)
	if css == nil {
		t.Fatalf("no stylesheet link:\n%s", p.body)
	}
	a := get(t, pe.e, html.UnescapeString(css[1]), nil)
	if a.status != http.StatusOK || a.header.Get(echo.HeaderContentType) != "text/css; charset=utf-8" ||
		!strings.Contains(a.header.Get(echo.HeaderCacheControl), "immutable") || !strings.Contains(a.body, ".timeline") {
		t.Errorf("stylesheet = %d %v", a.status, a.header)
	}
	if a := get(t, pe.e, "/assets/other.css", nil); a.status != http.StatusNotFound {
		t.Errorf("unknown asset = %d, want 404", a.status)
	}
}

// TestConfigureSCIMFormPageErrors: a browser posting the form gets its
// errors as a page; API clients keep getting JSON (TestConfigureSCIMForm).
func TestConfigureSCIMFormPageErrors(t *testing.T) {
	t.Parallel()
	pe := newPageServer(t, "sqlite")
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/plans/"+planID+"/configure-scim", strings.NewReader("csrf_token=x"))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	rec := httptest.NewRecorder()
	pe.e.ServeHTTP(rec, req)
	page{status: rec.Code, header: rec.Header(), body: rec.Body.String()}.want(t, http.StatusUnauthorized, "Sign-in needed")
}

// TestLoginPageErrors: a browser whose sign-in fails sees why on a page,
// which keeps the token in its address out of Referer headers.
func TestLoginPageErrors(t *testing.T) {
	t.Parallel()
	pe := newPageServer(t, "sqlite")
	p := get(t, pe.e, "/login?token="+expiredToken(t), nil)
	if p.status != http.StatusUnauthorized || !strings.HasPrefix(p.header.Get(echo.HeaderContentType), "text/html") ||
		!strings.Contains(p.body, "Sign-in needed") || !strings.Contains(p.body, "invalid_token") {
		t.Fatalf("failed sign-in = %d %s:\n%s", p.status, p.header.Get(echo.HeaderContentType), p.body)
	}
	if rp := p.header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", rp)
	}
	if p.header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy on the sign-in error page")
	}
	// A successful sign-in leaves no token in the address: 303 to the plain path.
	rec, ck := login(t, pe.e, "token="+mintTTL(t, adminEmail, time.Hour)+"&next="+url.QueryEscape("/plans/"+planID))
	if loc := rec.Header().Get(echo.HeaderLocation); rec.Code != http.StatusSeeOther || loc != "/plans/"+planID || ck == nil {
		t.Errorf("sign-in = %d to %q", rec.Code, loc)
	}
}
