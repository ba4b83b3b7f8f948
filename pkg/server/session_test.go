package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store/storetest"
)

const secureCookie = "__Host-seatsync_session"

// mintTTL returns a token for email that expires after ttl.
func mintTTL(t *testing.T, email string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint(jwtSecret, auth.Principal{Email: email}, ttl, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// login signs in with tok and returns the response and the session cookie (nil if none).
func login(t *testing.T, h http.Handler, query string) (*httptest.ResponseRecorder, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/login?"+query, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	cookies := rec.Result().Cookies()
	if len(cookies) > 1 {
		t.Fatalf("%d cookies set, want at most one", len(cookies))
	}
	if len(cookies) == 0 {
		return rec, nil
	}
	return rec, cookies[0]
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		pe := newPortalServer(t, dialect, nil)
		tok := mintTTL(t, adminEmail, time.Hour)

		rec, ck := login(t, pe.e, "token="+tok+"&next="+url.QueryEscape("/plans/plan_scim?tab=scim#x"))
		if rec.Code != http.StatusSeeOther || rec.Header().Get(echo.HeaderLocation) != "/plans/plan_scim?tab=scim" {
			t.Fatalf("login = %d to %q, want 303 to /plans/plan_scim?tab=scim; body %s", rec.Code, rec.Header().Get(echo.HeaderLocation), rec.Body)
		}
		if cc := rec.Header().Get(echo.HeaderCacheControl); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		if ck == nil {
			t.Fatal("no session cookie")
		}
		if ck.Name != secureCookie || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("cookie = %+v, want %s, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain", ck, secureCookie)
		}
		// The session ends with the token (1h), before the 8h cap.
		if d := time.Until(ck.Expires); d > time.Hour || d < time.Hour-time.Minute {
			t.Errorf("cookie expires in %v, want the token's hour", d)
		}
		if strings.Contains(ck.Value, tok) || strings.Contains(ck.Value, jwtSecret) {
			t.Error("the cookie carries the token or the secret")
		}

		// A long-lived token gets an 8-hour session.
		_, ck = login(t, pe.e, "token="+mintTTL(t, adminEmail, 72*time.Hour))
		if d := time.Until(ck.Expires); d > 8*time.Hour || d < 8*time.Hour-time.Minute {
			t.Errorf("cookie of a 72h token expires in %v, want 8h", d)
		}

		for _, next := range []string{"", "//evil.test/x", "https://evil.test/", "/\\evil.test", "/%2F%2Fevil.test",
			"/%252F%252Fevil.test", "evil", "/a\x00b", "javascript:alert(1)"} {
			rec, ck := login(t, pe.e, "token="+tok+"&next="+url.QueryEscape(next))
			if rec.Code != http.StatusSeeOther || rec.Header().Get(echo.HeaderLocation) != "/" || ck == nil {
				t.Errorf("next %q: %d to %q, want 303 to / with a cookie", next, rec.Code, rec.Header().Get(echo.HeaderLocation))
			}
		}

		run(t, pe.e, []scenario{
			{name: "bad token", path: "/login?token=" + tok[:len(tok)-3] + "abc", status: http.StatusUnauthorized, code: "invalid_token",
				excludes: []string{tok}},
			{name: "token of another secret", path: "/login?token=" + otherSecretToken(t), status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "expired token", path: "/login?token=" + expiredToken(t), status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "no token", path: "/login", status: http.StatusUnauthorized, code: "missing_token"},
			{name: "two tokens", path: "/login?token=" + tok + "&token=" + tok, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "embedded as an image", path: "/login?token=" + tok, headers: map[string]string{"Sec-Fetch-Dest": "image"},
				status: http.StatusForbidden, code: "csrf"},
		})
		for _, q := range []string{"token=" + tok[:len(tok)-3] + "abc", "", "token=" + expiredToken(t)} {
			if _, ck := login(t, pe.e, q); ck != nil {
				t.Errorf("refused login %q set a cookie", q)
			}
		}
	})
}

func otherSecretToken(t *testing.T) string {
	tok, err := auth.Mint(strings.Repeat("x", 40), auth.Principal{Email: adminEmail}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func expiredToken(t *testing.T) string {
	tok, err := auth.Mint(jwtSecret, auth.Principal{Email: adminEmail}, time.Hour, time.Now().Add(-2*time.Hour), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestLoginInsecureCookies(t *testing.T) {
	pe := newPortalServer(t, "sqlite", func(d *server.Deps, _ *workosapi.Options) { d.InsecureCookies = true })
	_, ck := login(t, pe.e, "token="+mintTTL(t, adminEmail, time.Hour))
	if ck == nil || ck.Name != "seatsync_session" || ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("dev cookie = %+v, want seatsync_session, not Secure, HttpOnly, SameSite=Lax", ck)
	}
	// The form works with it.
	form := url.Values{"csrf_token": {csrf(t, ck.Value)}}.Encode()
	scenario{method: http.MethodPost, path: formPath(scimPlan), body: form, headers: formHeaders(ck, nil),
		status: http.StatusSeeOther}.do(t, pe.e)
}

func TestLoginNotConfigured(t *testing.T) {
	t.Parallel()
	e := server.New(server.Deps{Store: storetest.Open(t, "sqlite")})
	scenario{path: "/login?token=x", status: http.StatusServiceUnavailable, code: "auth_not_configured"}.do(t, e)
	scenario{method: http.MethodPost, path: formPath(scimPlan), body: "csrf_token=x",
		headers: map[string]string{echo.HeaderContentType: echo.MIMEApplicationForm}, status: http.StatusUnauthorized,
		code: "session_required"}.do(t, e)
}

func formPath(plan string) string { return "/plans/" + plan + "/configure-scim" }

// csrf returns the configure-scim CSRF token of the session in cookie.
func csrf(t *testing.T, cookie string) string {
	t.Helper()
	tok, err := server.CSRFTokenFor(jwtSecret, cookie, server.PurposeConfigureSCIM)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// formHeaders are the headers of a same-origin form post with the session cookie.
func formHeaders(ck *http.Cookie, extra map[string]string) map[string]string {
	h := map[string]string{echo.HeaderContentType: echo.MIMEApplicationForm,
		"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}
	if ck != nil {
		h["Cookie"] = ck.Name + "=" + ck.Value
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func TestConfigureSCIMForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		pe := newPortalServer(t, dialect, nil)
		_, ck := login(t, pe.e, "token="+mintTTL(t, adminEmail, time.Hour))
		_, otherCk := login(t, pe.e, "token="+mintTTL(t, otherAdmin, time.Hour))
		_, ck2 := login(t, pe.e, "token="+mintTTL(t, adminEmail, time.Hour)) // a second session of the same admin
		good := url.Values{"csrf_token": {csrf(t, ck.Value)}}.Encode()
		path := formPath(scimPlan)
		post := func(sc scenario) scenario {
			sc.method = http.MethodPost
			if sc.path == "" {
				sc.path = path
			}
			if sc.headers == nil {
				sc.headers = formHeaders(ck, nil)
			}
			return sc
		}
		tampered := *ck
		tampered.Value = flip(ck.Value, 3)
		forged := *ck
		forged.Value = server.SessionCookieFor(strings.Repeat("k", 40), adminEmail, false, time.Now().Add(time.Hour))
		expired := *ck
		expired.Value = server.SessionCookieFor(jwtSecret, adminEmail, false, time.Now().Add(-time.Second))
		dev := *ck
		dev.Name = "seatsync_session"

		run(t, pe.e, []scenario{
			post(scenario{name: "no session", body: good, headers: formHeaders(nil, nil), status: http.StatusUnauthorized, code: "session_required"}),
			post(scenario{name: "cookie under the insecure name", body: good, headers: formHeaders(&dev, nil), status: http.StatusUnauthorized,
				code: "session_required"}),
			post(scenario{name: "tampered cookie", body: good, headers: formHeaders(&tampered, nil), status: http.StatusUnauthorized,
				code: "invalid_session"}),
			post(scenario{name: "cookie signed with another key", body: good, headers: formHeaders(&forged, nil),
				status: http.StatusUnauthorized, code: "invalid_session"}),
			post(scenario{name: "garbage cookie", body: good, headers: formHeaders(&http.Cookie{Name: secureCookie, Value: "abc"}, nil),
				status: http.StatusUnauthorized, code: "invalid_session"}),
			post(scenario{name: "expired session", body: good, headers: formHeaders(&expired, nil), status: http.StatusUnauthorized,
				code: "session_expired"}),

			post(scenario{name: "no CSRF token", body: "a=b", status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "empty CSRF token", body: "csrf_token=", status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "wrong CSRF token", body: "csrf_token=" + flip(csrf(t, ck.Value), 2), status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "CSRF token of another session", body: url.Values{"csrf_token": {csrf(t, ck2.Value)}}.Encode(),
				status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "CSRF token of another purpose", body: url.Values{"csrf_token": {mustCSRF(t, ck.Value, "delete-member")}}.Encode(),
				status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "CSRF token in the query only", path: path + "?" + good, body: "a=b", status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "CSRF token twice", body: good + "&" + good, status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "JSON body", body: `{"csrf_token":"x"}`, headers: formHeaders(ck, map[string]string{
				echo.HeaderContentType: echo.MIMEApplicationJSON}), status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "cross-site Origin", body: good, headers: formHeaders(ck, map[string]string{"Origin": "https://evil.test",
				"Sec-Fetch-Site": ""}), status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "null Origin", body: good, headers: formHeaders(ck, map[string]string{"Origin": "null"}),
				status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "Sec-Fetch-Site cross-site", body: good, headers: formHeaders(ck, map[string]string{"Sec-Fetch-Site": "cross-site",
				"Origin": ""}), status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "Sec-Fetch-Site same-site", body: good, headers: formHeaders(ck, map[string]string{"Sec-Fetch-Site": "same-site"}),
				status: http.StatusForbidden, code: "csrf"}),
			post(scenario{name: "body too large", body: good + "&pad=" + strings.Repeat("a", 70<<10), status: http.StatusRequestEntityTooLarge,
				code: "body_too_large"}),

			post(scenario{name: "another plan's admin", body: url.Values{"csrf_token": {csrf(t, otherCk.Value)}}.Encode(),
				headers: formHeaders(otherCk, nil), status: http.StatusNotFound, code: "plan_not_found"}),
			post(scenario{name: "unknown plan", path: formPath("plan_nope"), body: good, status: http.StatusNotFound, code: "plan_not_found"}),
		})
		if n := pe.wos.Requests("/"); n != 0 {
			t.Fatalf("refused form posts called WorkOS %d times", n)
		}

		for _, sc := range []scenario{
			post(scenario{name: "same origin", body: good}),
			post(scenario{name: "no Origin or Sec-Fetch-Site (older browser)", body: good, headers: formHeaders(ck, map[string]string{
				"Origin": "", "Sec-Fetch-Site": ""})}),
			post(scenario{name: "behind a proxy that rewrites Host", body: good, headers: formHeaders(ck, map[string]string{
				"Origin": "https://seatsync.example", "X-Forwarded-Host": "seatsync.example"})}),
		} {
			t.Run(sc.name, func(t *testing.T) {
				sc.status = http.StatusSeeOther
				sc.respHeaders = map[string]string{echo.HeaderCacheControl: "no-store"}
				for k, v := range sc.headers {
					if v == "" {
						delete(sc.headers, k)
					}
				}
				rec := sc.do(t, pe.e)
				link := rec.Header().Get(echo.HeaderLocation)
				if !strings.HasPrefix(link, pe.wos.URL+"/portal/setup?token=") {
					t.Fatalf("Location = %q, want the fake WorkOS portal link", link)
				}
				if page := openLink(t, link); !strings.Contains(page, `<strong id="intent">dsync</strong>`) {
					t.Errorf("portal page:\n%s", page)
				}
			})
		}
		if n := pe.wos.Created("organization"); n != 1 {
			t.Errorf("organizations created = %d, want 1", n)
		}
		if lr := lastLinkRequest(t, pe.wos); lr.ReturnURL != "https://billing.test/plans/plan_scim/billing" {
			t.Errorf("return_url = %q", lr.ReturnURL)
		}
	})
}

func mustCSRF(t *testing.T, cookie, purpose string) string {
	t.Helper()
	tok, err := server.CSRFTokenFor(jwtSecret, cookie, purpose)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// flip changes the character at i of a base64url string to another valid one.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
