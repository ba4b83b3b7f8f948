package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

const (
	// defaultMaxFormBody bounds an IdP-initiated POST when Deps.MaxFormBody is unset.
	defaultMaxFormBody = 1 << 20
	// maxRelayState is the longest RelayState that may refine the redirect;
	// longer values are ignored, not rejected.
	maxRelayState = 1024
	// relayDecodeRounds is how many times RelayState is percent-decoded
	// looking for a stable form; one still changing after that is ignored.
	relayDecodeRounds = 4
)

// ssoLoginRedirect is the stub SAML endpoint (SPEC §7): GET and POST answer
// 303 to the configured login page. The SAML payload is read and discarded,
// never parsed or trusted, and nobody is logged in by it. RelayState (form or
// query) only refines the target when it is a relative path on the login host.
func (s *Server) ssoLoginRedirect(c echo.Context) error {
	login, ok := loginURL(s.SAMLLoginURL)
	if !ok {
		return membership.Errorf(membership.Unavailable, "saml_not_configured", "no SAML login page is configured (saml.login_url)")
	}
	req := c.Request()
	relay := req.URL.Query()["RelayState"]
	if req.Method == http.MethodPost {
		body, err := s.readSSOBody(c)
		if err != nil {
			return err
		}
		if form, ok := formRelayState(req.Header, body); ok {
			relay = form
		}
	}
	target := login.String()
	if len(relay) == 1 {
		if t, ok := relayTarget(login, relay[0]); ok {
			target = t
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Redirect(http.StatusSeeOther, target)
}

// readSSOBody reads the whole body, bounded by the limit, without ever
// handing an oversized body to a form parser.
func (s *Server) readSSOBody(c echo.Context) ([]byte, error) {
	limit := s.MaxFormBody
	if limit <= 0 {
		limit = defaultMaxFormBody
	}
	tooLarge := membership.Errorf(membership.TooLarge, "body_too_large", "request body is larger than %d bytes", limit)
	req := c.Request()
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, membership.Errorf(membership.Invalid, "body_unreadable", "could not read the request body")
	}
	return body, nil
}

// formRelayState returns the RelayState values of an uncompressed
// url-encoded form body; ok is false when the body is no such form, or is
// malformed (then no value from it is trusted).
func formRelayState(h http.Header, body []byte) (vals []string, ok bool) {
	mt, _, err := mime.ParseMediaType(h.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, false
	}
	for _, enc := range h.Values(echo.HeaderContentEncoding) {
		if e := strings.TrimSpace(enc); e != "" && !strings.EqualFold(e, "identity") {
			return nil, false
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return []string{}, true // present but untrustworthy: ignore the query's too
	}
	vals, ok = form["RelayState"]
	return vals, ok
}

// loginURL parses the configured login page: an absolute http(s) URL.
func loginURL(raw string) (*url.URL, bool) {
	if raw == "" {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// relayTarget returns the login host + relay's path and query when relay is
// a safe relative path, after percent-decoding it until stable: a single
// leading "/", no backslash, no control or other invisible character, valid
// UTF-8, no scheme or host, and resolving against login keeps its scheme and
// host. Anything else is ignored (ok false).
func relayTarget(login *url.URL, relay string) (string, bool) {
	if len(relay) > maxRelayState {
		return "", false
	}
	stable := false
	for cur, i := relay, 0; i <= relayDecodeRounds; i++ {
		if !safeRelativePath(cur) {
			return "", false
		}
		next, err := url.PathUnescape(cur)
		if err != nil {
			return "", false
		}
		if next == cur {
			stable = true
			break
		}
		cur = next
	}
	if !stable {
		return "", false
	}
	ref, err := url.Parse(relay)
	if err != nil || ref.Scheme != "" || ref.Host != "" || ref.User != nil || ref.Opaque != "" {
		return "", false
	}
	u := login.ResolveReference(ref)
	if u.Scheme != login.Scheme || u.Host != login.Host {
		return "", false
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), true
}

// safeRelativePath checks one decoding stage of a RelayState.
func safeRelativePath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') || !utf8.ValidString(p) {
		return false
	}
	for _, r := range p {
		if !unicode.IsGraphic(r) {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}
