package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/server"
)

const (
	loginPage = "https://login.example.test/login?from=sso"
	ssoPath   = "/sso/login_redirect"
	ssoLimit  = 1 << 20
)

// ssoServer is server.New with only what the SSO routes use: they never touch
// the store or the applier.
func ssoServer(loginURL string) http.Handler {
	return server.New(server.Deps{SAMLLoginURL: loginURL})
}

// form is the Content-Type header of an IdP-initiated POST.
var form = map[string]string{echo.HeaderContentType: echo.MIMEApplicationForm}

// redirected is a 303 scenario to exactly location.
func redirected(name, method, path, body, location string) scenario {
	sc := scenario{name: name, method: method, path: path, body: body, status: http.StatusSeeOther,
		respHeaders: map[string]string{echo.HeaderLocation: location, echo.HeaderCacheControl: "no-store"}}
	if body != "" {
		sc.headers = form
	}
	return sc
}

// with returns sc changed by f.
func with(sc scenario, f func(*scenario)) scenario {
	f(&sc)
	return sc
}

func TestSSORedirect(t *testing.T) {
	t.Parallel()
	h := ssoServer(loginPage)
	big := "SAMLResponse=" + strings.Repeat("PHNhbWxwOlJlc3BvbnNl", 900<<10/20)
	scs := []scenario{
		redirected("GET", http.MethodGet, ssoPath, "", loginPage),
		redirected("GET with a SAMLRequest", http.MethodGet, ssoPath+"?SAMLRequest=fZJNT8MwDIb", "", loginPage),
		redirected("POST", http.MethodPost, ssoPath, "SAMLResponse=PHNhbWxwOlJlc3BvbnNl&RelayState=", loginPage),
		{name: "POST without body", method: http.MethodPost, path: ssoPath, status: http.StatusSeeOther,
			respHeaders: map[string]string{echo.HeaderLocation: loginPage}},
		redirected("POST of 900 KiB", http.MethodPost, ssoPath, big, loginPage),
		redirected("POST of exactly the limit", http.MethodPost, ssoPath, "SAMLResponse="+strings.Repeat("A", ssoLimit-len("SAMLResponse=")), loginPage),
		with(redirected("POST of 900 KiB, chunked", http.MethodPost, ssoPath, big, loginPage), func(sc *scenario) {
			sc.prepare = chunked
		}),
		with(redirected("POST not a form", http.MethodPost, ssoPath, "RelayState=/dashboard", loginPage), func(sc *scenario) {
			sc.headers = map[string]string{echo.HeaderContentType: echo.MIMETextPlain}
		}),
		{name: "POST over the limit", method: http.MethodPost, path: ssoPath, headers: form,
			body: "SAMLResponse=" + strings.Repeat("A", ssoLimit), status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{name: "POST over the limit, chunked", method: http.MethodPost, path: ssoPath, headers: form, prepare: chunked,
			body: "SAMLResponse=" + strings.Repeat("A", ssoLimit), status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{name: "POST with RelayState over the limit", method: http.MethodPost, path: ssoPath, headers: form,
			body: "RelayState=/dashboard&SAMLResponse=" + strings.Repeat("A", 2*ssoLimit), status: http.StatusRequestEntityTooLarge,
			code: "body_too_large", excludes: []string{"dashboard"}},
		{name: "PUT", method: http.MethodPut, path: ssoPath, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			if rec := sc.do(t, h); rec.Code == http.StatusSeeOther && rec.Body.Len() != 0 {
				t.Errorf("303 body = %q, want none", rec.Body)
			}
		})
	}
}

// TestSSOMaxFormBody: Deps.MaxFormBody replaces the 1 MiB default.
func TestSSOMaxFormBody(t *testing.T) {
	t.Parallel()
	h := server.New(server.Deps{SAMLLoginURL: loginPage, MaxFormBody: 2048})
	for _, sc := range []scenario{
		redirected("within", http.MethodPost, ssoPath, "SAMLResponse="+strings.Repeat("A", 2000), loginPage),
		{name: "over", method: http.MethodPost, path: ssoPath, headers: form, body: "SAMLResponse=" + strings.Repeat("A", 2048),
			status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.do(t, h)
		})
	}
}

func TestSSONotConfigured(t *testing.T) {
	t.Parallel()
	for _, login := range []string{"", "/login", "login.example.test", "ftp://login.example.test/", "https://"} {
		h := ssoServer(login)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+login, func(t *testing.T) {
				t.Parallel()
				rec := scenario{method: method, path: ssoPath + "?RelayState=%2Fdashboard", status: http.StatusServiceUnavailable,
					code: "saml_not_configured", respHeaders: map[string]string{"Retry-After": ""}}.do(t, h)
				if loc := rec.Header().Get(echo.HeaderLocation); loc != "" {
					t.Errorf("Location = %q, want none", loc)
				}
			})
		}
	}
}

// TestSSORelayState: RelayState, from the query or the form, refines the
// target only when it is a relative path on the login host; every hostile
// value leaves the target the login page itself, never reflected in the body.
func TestSSORelayState(t *testing.T) {
	t.Parallel()
	h := ssoServer(loginPage)
	const host = "https://login.example.test"
	cases := []struct {
		name, relay, want string
	}{
		{"path", "/dashboard", host + "/dashboard"},
		{"path and query", "/settings?tab=sso", host + "/settings?tab=sso"},
		{"root", "/", host + "/"},
		{"nested path", "/a/b/c?x=1&y=2", host + "/a/b/c?x=1&y=2"},
		{"fragment dropped", "/dashboard#evil", host + "/dashboard"},
		{"dot segments stay on the host", "/a/../dashboard", host + "/dashboard"},
		{"encoded path kept", "/files/a%20b", host + "/files/a%20b"},

		{"empty", "", loginPage},
		{"https URL", "https://evil.example", loginPage},
		{"http URL", "http://evil.example/login", loginPage},
		{"login host URL", "https://login.example.test/dashboard", loginPage},
		{"scheme-relative", "//evil.example", loginPage},
		{"scheme-relative with path", "//evil.example/dashboard", loginPage},
		{"triple slash", "///evil.example", loginPage},
		{"slash backslash", `/\evil.example`, loginPage},
		{"backslashes", `\\evil.example`, loginPage},
		{"backslash in path", `/dashboard\..\..\evil`, loginPage},
		{"javascript", "javascript:alert(1)", loginPage},
		{"JAVASCRIPT", "JAVASCRIPT:alert(1)", loginPage},
		{"javascript with tab", "java\tscript:alert(1)", loginPage},
		{"data", "data:text/html,<script>alert(1)</script>", loginPage},
		{"data base64", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", loginPage},
		{"vbscript", "vbscript:msgbox(1)", loginPage},
		{"encoded scheme-relative", "%2F%2Fevil.example", loginPage},
		{"double-encoded scheme-relative", "%252F%252Fevil.example", loginPage},
		{"encoded colon", "https:%2F%2Fevil.example", loginPage},
		{"encoded slashes after slash", "/%2F%2Fevil.example?", loginPage},
		{"double-encoded slashes after slash", "/%252F%252Fevil.example", loginPage},
		{"triple-encoded slashes after slash", "/%25252F%25252Fevil.example", loginPage},
		{"deeply encoded", "/" + strings.Repeat("%25", 8) + "2F/evil.example", loginPage},
		{"encoded backslash", "/%5Cevil.example", loginPage},
		{"double-encoded backslash", "/%255Cevil.example", loginPage},
		{"encoded tab", "/%09/evil.example", loginPage},
		{"encoded newline", "/dashboard%0d%0aLocation:%20https://evil.example", loginPage},
		{"userinfo", "http://login.example.test@evil.example", loginPage},
		{"userinfo, relative", "//login.example.test@evil.example", loginPage},
		{"leading spaces", "  //evil.example", loginPage},
		{"leading tab", "\t//evil.example", loginPage},
		{"leading newline", "\n//evil.example", loginPage},
		{"leading space, path", " /dashboard", loginPage},
		{"slash tab slash", "/\t/evil.example", loginPage},
		{"slash newline slash", "/\n/evil.example", loginPage},
		{"slash CR slash", "/\r/evil.example", loginPage},
		{"NUL", "/\x00/evil.example", loginPage},
		{"zero-width space", "/\u200b/evil.example", loginPage},
		{"CRLF header injection", "/dashboard\r\nSet-Cookie: a=b", loginPage},
		{"very long", "/" + strings.Repeat("a", 10<<10), loginPage},
		{"invalid UTF-8", "/\xff\xfe", loginPage},
		{"encoded invalid UTF-8", "/%ff%fe", loginPage},
		{"bad escape", "/dashboard%zz", loginPage},
		{"relative without slash", "evil.example", loginPage},
		{"dot relative", "./dashboard", loginPage},
		{"fullwidth solidus", "／／evil.example", loginPage},
	}
	for _, tc := range cases {
		q := url.Values{"RelayState": {tc.relay}}.Encode()
		scs := []scenario{
			redirected("query", http.MethodGet, ssoPath+"?"+q, "", tc.want),
			redirected("form", http.MethodPost, ssoPath, "SAMLResponse=PHNhbWxw&"+q, tc.want),
			redirected("form over a benign query", http.MethodPost, ssoPath+"?RelayState=%2Fdashboard", "SAMLResponse=PHNhbWxw&"+q, tc.want),
			redirected("POST with query", http.MethodPost, ssoPath+"?"+q, "SAMLResponse=PHNhbWxw", tc.want),
		}
		for _, sc := range scs {
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				rec := sc.do(t, h)
				if rec.Body.Len() != 0 {
					t.Errorf("303 body = %q, want none", rec.Body)
				}
			})
		}
	}
}

// TestSSOIgnoresOtherParameters: only RelayState is ever considered, and
// only when it is unambiguous.
func TestSSOIgnoresOtherParameters(t *testing.T) {
	t.Parallel()
	h := ssoServer(loginPage)
	for _, sc := range []scenario{
		redirected("redirect parameters", http.MethodGet,
			ssoPath+"?next=https://evil.example&redirect_uri=//evil.example&return_to=/dashboard&url=/dashboard", "", loginPage),
		redirected("two RelayStates in the query", http.MethodGet, ssoPath+"?RelayState=/dashboard&RelayState=//evil.example", "", loginPage),
		redirected("two RelayStates in the form", http.MethodPost, ssoPath, "RelayState=/dashboard&RelayState=/settings", loginPage),
		redirected("malformed form", http.MethodPost, ssoPath+"?RelayState=/dashboard", "RelayState=/settings&SAMLResponse=%zz", loginPage),
		redirected("form without RelayState", http.MethodPost, ssoPath+"?RelayState=/dashboard", "SAMLResponse=PHNhbWxw",
			"https://login.example.test/dashboard"),
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.do(t, h)
		})
	}
}

// TestSSOCompressedForm: a compressed body is never inflated, so its
// RelayState is not read.
func TestSSOCompressedForm(t *testing.T) {
	t.Parallel()
	with(redirected("gzip", http.MethodPost, ssoPath, "RelayState=/dashboard", loginPage), func(sc *scenario) {
		sc.headers = merge(form, map[string]string{echo.HeaderContentEncoding: "gzip"})
	}).do(t, ssoServer(loginPage))
}
