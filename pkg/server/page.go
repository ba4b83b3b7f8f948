package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// The admin pages: server-rendered HTML (html/template escapes every value)
// with one embedded stylesheet and no script, so they work in any browser
// and a strict Content-Security-Policy holds. They read the session cookie
// of /login (session.go); their forms carry CSRF tokens.

//go:embed web/*.html web/*.css
var webFS embed.FS

const (
	// htmlKey marks a request whose errors the error handler renders as a page.
	htmlKey = "seatsync.html"
	// stylesheet is the one asset; assetVersion busts caches when it changes.
	stylesheet = "seatsync.css"
	// purposeLogout is the CSRF purpose of POST /logout.
	purposeLogout = "logout"
)

var (
	styleCSS     = mustRead("web/" + stylesheet)
	assetVersion = contentHash(styleCSS)
	pages        = map[string]*template.Template{
		"plan":  parsePage("plan.html"),
		"home":  parsePage("home.html"),
		"error": parsePage("error.html"),
	}
)

func mustRead(name string) []byte {
	b, err := webFS.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: only a wrong name fails
	}
	return b
}

func contentHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

var pageFuncs = template.FuncMap{
	// when formats a time for people: UTC, to the minute.
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	// iso formats a time for <time datetime>.
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// sentence starts an API-style message ("token has expired") with a capital and ends it with a period.
	"sentence": func(s string) string {
		if s == "" {
			return s
		}
		r, n := utf8.DecodeRuneInString(s)
		s = string(unicode.ToUpper(r)) + s[n:]
		if !strings.HasSuffix(s, ".") {
			s += "."
		}
		return s
	},
}

func parsePage(name string) *template.Template {
	return template.Must(template.New(name).Funcs(pageFuncs).ParseFS(webFS, "web/base.html", "web/"+name))
}

// pageCommon is what the layout (base.html) reads.
type pageCommon struct {
	Title   string
	CSS     string
	Session *sessionView
}

// sessionView is the signed-in person in the page header.
type sessionView struct {
	Email      string
	Expires    time.Time
	LogoutCSRF string
}

func (s *Server) common(title string, sess *session) pageCommon {
	pc := pageCommon{Title: title, CSS: "/assets/" + stylesheet + "?v=" + assetVersion}
	if sess != nil {
		pc.Session = &sessionView{Email: sess.Email, Expires: time.Unix(sess.Expires, 0),
			LogoutCSRF: s.csrfToken(*sess, purposeLogout)}
	}
	return pc
}

// htmlPage is the middleware of the page routes: security headers, no
// caching (pages show one admin's data), and errors rendered as pages.
func htmlPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(htmlKey, true)
		pageHeaders(c.Response().Header())
		return next(c)
	}
}

// htmlForBrowsers is the middleware of /login and the browser forms: a
// browser (Accept: text/html) gets its errors as a page, any other client as
// JSON. Handlers may still override the headers (login's Referrer-Policy).
func htmlForBrowsers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") {
			c.Set(htmlKey, true)
			pageHeaders(c.Response().Header())
		}
		return next(c)
	}
}

func pageHeaders(h http.Header) {
	// No script at all; styles from the stylesheet only (no inline style
	// attributes); the forms post to this origin, and the Configure SCIM one
	// is then redirected to WorkOS, so form-action is left unrestricted.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "+
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin rather than no-referrer: with no-referrer browsers send
	// "Origin: null" on the pages' own form posts, which sameOrigin refuses.
	// Other sites (WorkOS included) get no Referer either way.
	h.Set("Referrer-Policy", "same-origin")
	h.Set(echo.HeaderCacheControl, "no-store")
}

func wantsHTML(c echo.Context) bool {
	v, _ := c.Get(htmlKey).(bool)
	return v
}

// render executes page into a buffer first, so a template error is a clean
// 500 rather than half a page.
func render(c echo.Context, status int, page string, data any) error {
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "base", data); err != nil {
		c.Set(htmlKey, false) // the error page could fail the same way
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

type errorPage struct {
	pageCommon
	Status  int
	Code    string
	Message string
	SignIn  bool
}

// renderErrorPage is how errorHandler answers a page request: the status it
// chose, as HTML.
func renderErrorPage(c echo.Context, status int, code, msg string) error {
	title := http.StatusText(status)
	switch {
	case status == http.StatusUnauthorized:
		title = "Sign-in needed"
	case status == http.StatusNotFound:
		title = "Not found"
		if code == "plan_not_found" {
			// The same words for a missing plan and another admin's plan.
			msg = "There is no such plan, or you are not one of its admins."
		}
	case status >= 500:
		title = "Something went wrong"
	}
	if title == "" {
		title = "Error"
	}
	data := errorPage{pageCommon: pageCommon{Title: title, CSS: "/assets/" + stylesheet + "?v=" + assetVersion},
		Status: status, Code: code, Message: msg, SignIn: status == http.StatusUnauthorized}
	return render(c, status, "error", data)
}

// asset serves the embedded stylesheet.
func (s *Server) asset(c echo.Context) error {
	if c.Param("name") != stylesheet {
		return membership.Errorf(membership.NotFound, "not_found", "no such asset")
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if c.QueryParam("v") == assetVersion {
		h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		h.Set(echo.HeaderCacheControl, "public, max-age=300")
	}
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", styleCSS)
}

// pageSession is the session of a page request; without one the page is a
// 401 that tells the admin where to sign in.
func (s *Server) pageSession(c echo.Context) (session, error) {
	ck, err := c.Cookie(s.sessionCookieName())
	if err != nil || ck.Value == "" {
		return session{}, membership.Errorf(membership.Unauthorized, "session_required", "you are not signed in")
	}
	return s.sessions.decode(ck.Value, time.Now())
}

type homePage struct {
	pageCommon
	Plans []homePlan
	More  bool
}

type homePlan struct{ ID, Name, Mode string }

// maxHomePlans bounds the plans the home page lists.
const maxHomePlans = 100

// homePage is GET /: the plans the signed-in admin administers (all plans
// for the billing system's service token), each linking to its page.
func (s *Server) homePage(c echo.Context) error {
	sess, err := s.pageSession(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	data := homePage{pageCommon: s.common("Your plans", &sess)}
	var rows []store.PlanRow
	if sess.Service {
		rows, err = s.Store.Plans(ctx)
	} else {
		rows, err = s.Store.AdminPlans(ctx, sess.Email, maxHomePlans+1)
	}
	if err != nil {
		return err
	}
	if len(rows) > maxHomePlans {
		rows, data.More = rows[:maxHomePlans], true
	}
	for _, r := range rows {
		data.Plans = append(data.Plans, homePlan{ID: r.ID, Name: r.Name, Mode: r.Mode})
	}
	return render(c, http.StatusOK, "home", data)
}

// logout is POST /logout: it ends the browser's session (the cookie; the
// signed session itself cannot be revoked before it expires) and sends the
// browser to /, which then asks it to sign in.
func (s *Server) logout(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	sess, err := s.browserSession(c)
	if err != nil {
		return err
	}
	if err := s.checkForm(c, sess, purposeLogout); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: s.sessionCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: !s.InsecureCookies, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/")
}
