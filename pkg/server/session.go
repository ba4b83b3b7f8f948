package server

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

// Browser sessions. GET /login?token=<JWT> turns an admin token into a signed,
// stateless session cookie; the browser forms (POST /plans/…) then need that
// cookie plus a CSRF token derived from it.
//
// The cookie value is base64url(JSON payload) "." base64url(HMAC-SHA256), with
// a key derived (HKDF) from Deps.SessionSecret, which cmd/seatsync sets to
// auth.jwt_secret. Without a secret (JWKS-only configurations) the key is
// random per process: sessions then do not survive a restart and do not span
// replicas, so a browser must sign in again through the replica it talks to.
// Sessions cannot be revoked before they expire (at most sessionTTL).
const (
	// sessionCookieName is used with Secure cookies: the __Host- prefix makes
	// browsers refuse it unless Secure, Path=/ and host-only, so a sibling
	// subdomain cannot plant one.
	sessionCookieName = "__Host-seatsync_session"
	// insecureSessionCookieName is used with Deps.InsecureCookies (plain-HTTP development).
	insecureSessionCookieName = "seatsync_session"
	// sessionTTL bounds a session; it never outlives the token it came from.
	sessionTTL = 8 * time.Hour
	// maxSessionCookie bounds the cookie value parsed.
	maxSessionCookie = 2048
	// maxFormBody bounds a browser form post.
	maxFormBody = 64 << 10

	// csrfField is the form field that carries the CSRF token.
	csrfField = "csrf_token"
	// purposeConfigureSCIM is the CSRF purpose of POST /plans/{id}/configure-scim.
	purposeConfigureSCIM = "configure-scim"
)

// session is the signed payload of the session cookie.
type session struct {
	// ID is random; CSRF tokens are derived from it.
	ID      string `json:"sid"`
	Email   string `json:"sub"`
	Service bool   `json:"svc,omitempty"`
	// Expires is a Unix time in seconds.
	Expires int64 `json:"exp"`
}

func (s session) principal() auth.Principal {
	return auth.Principal{Email: s.Email, Service: s.Service}
}

// sessionKeys sign session cookies and derive CSRF tokens; two keys, so a
// CSRF token can never pass as a cookie signature or the other way round.
type sessionKeys struct {
	sign, csrf []byte
}

// newSessionKeys derives the keys from secret, or makes random ones when
// secret is empty (persistent reports which).
func newSessionKeys(secret string) (k sessionKeys, persistent bool) {
	master := []byte(secret)
	if secret == "" {
		master = make([]byte, 32)
		_, _ = rand.Read(master) // never fails (crypto/rand panics instead)
	}
	derive := func(info string) []byte {
		b, err := hkdf.Key(sha256.New, master, nil, info, 32)
		if err != nil {
			panic(err) // only for lengths hkdf cannot produce
		}
		return b
	}
	return sessionKeys{sign: derive("seatsync session cookie v1"), csrf: derive("seatsync csrf token v1")}, secret != ""
}

var b64 = base64.RawURLEncoding

// encode returns the cookie value for sess.
func (k sessionKeys) encode(sess session) string {
	payload, _ := json.Marshal(sess) // plain strings, a bool and an int
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(k.mac(k.sign, p))
}

// decode verifies a cookie value and returns its session; any failure is a
// *membership.Error of Kind Unauthorized.
func (k sessionKeys) decode(value string, now time.Time) (session, error) {
	invalid := membership.Errorf(membership.Unauthorized, "invalid_session", "the session cookie is invalid: sign in again")
	p, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > maxSessionCookie {
		return session{}, invalid
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(k.sign, p)) {
		return session{}, invalid
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return session{}, invalid
	}
	var sess session
	if err := json.Unmarshal(payload, &sess); err != nil || sess.ID == "" || sess.Email == "" {
		return session{}, invalid
	}
	if now.Unix() >= sess.Expires {
		return session{}, membership.Errorf(membership.Unauthorized, "session_expired", "the session has expired: sign in again")
	}
	return sess, nil
}

// csrfToken is the token the forms of sess with this purpose must carry. Pages
// embed it in a hidden field named csrfField.
func (k sessionKeys) csrfToken(sess session, purpose string) string {
	return b64.EncodeToString(k.mac(k.csrf, sess.ID+"\x00"+purpose))
}

// validCSRF compares a submitted token in constant time.
func (k sessionKeys) validCSRF(sess session, purpose, token string) bool {
	got, err := b64.DecodeString(token)
	return err == nil && hmac.Equal(got, k.mac(k.csrf, sess.ID+"\x00"+purpose))
}

func (sessionKeys) mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (s *Server) sessionCookieName() string {
	if s.InsecureCookies {
		return insecureSessionCookieName
	}
	return sessionCookieName
}

// csrfToken returns the CSRF token for a form of the session with the given
// purpose (e.g. purposeConfigureSCIM), for pages to embed.
func (s *Server) csrfToken(sess session, purpose string) string {
	return s.sessions.csrfToken(sess, purpose)
}

// login is GET /login?token=<JWT>[&next=/path]: it verifies the token like the
// API does, sets the session cookie and answers 303 to next when that is a
// relative path on this host, else to "/".
func (s *Server) login(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	// The URL carries a token: keep it out of Referer headers.
	h.Set("Referrer-Policy", "no-referrer")
	if s.Auth == nil {
		return membership.Errorf(membership.Unavailable, "auth_not_configured",
			"no token verification is configured (auth.jwt_secret or auth.jwks_url)")
	}
	req := c.Request()
	// A login is a top-level navigation; an <img> or <iframe> pointing here
	// from another site must not sign the browser in (login CSRF).
	if dest := req.Header.Get("Sec-Fetch-Dest"); dest != "" && dest != "document" {
		return membership.Errorf(membership.Forbidden, "csrf", "sign-in must be a top-level navigation")
	}
	tokens := req.URL.Query()["token"]
	if len(tokens) != 1 || tokens[0] == "" {
		return membership.Errorf(membership.Unauthorized, "missing_token", "sign in with GET /login?token=<admin token>")
	}
	ctx := req.Context()
	p, err := s.Auth.VerifyContext(ctx, tokens[0])
	if err != nil {
		return err
	}
	now := time.Now()
	exp := now.Add(sessionTTL)
	if te, ok := tokenExpiry(tokens[0]); ok && te.Before(exp) {
		exp = te
	}
	if !exp.After(now) { // possible within the verifier's clock leeway
		return membership.Errorf(membership.Unauthorized, "invalid_token", "token has expired")
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	sess := session{ID: b64.EncodeToString(id), Email: p.Email, Service: p.Service, Expires: exp.Unix()}
	c.SetCookie(&http.Cookie{
		Name:     s.sessionCookieName(),
		Value:    s.sessions.encode(sess),
		Path:     "/",
		Expires:  time.Unix(sess.Expires, 0),
		MaxAge:   int(time.Unix(sess.Expires, 0).Sub(now).Seconds()),
		HttpOnly: true,
		Secure:   !s.InsecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	return c.Redirect(http.StatusSeeOther, localTarget(c.QueryParam("next")))
}

// tokenExpiry reads the exp claim of a token VerifyContext has accepted
// (which requires one); the signature is not checked again.
func tokenExpiry(token string) (time.Time, bool) {
	var rc jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &rc); err != nil || rc.ExpiresAt == nil {
		return time.Time{}, false
	}
	return rc.ExpiresAt.Time, true
}

// localTarget returns next when it is a safe relative path on this host (the
// check RelayState gets, see relayTarget), without its fragment; else "/".
func localTarget(next string) string {
	if next == "" || len(next) > maxRelayState {
		return "/"
	}
	for cur, i := next, 0; ; i++ {
		if i > relayDecodeRounds || !safeRelativePath(cur) {
			return "/"
		}
		dec, err := url.PathUnescape(cur)
		if err != nil {
			return "/"
		}
		if dec == cur {
			break
		}
		cur = dec
	}
	u, err := url.Parse(next)
	if err != nil {
		return "/"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// browserSession returns the session of a form post; no or a bad cookie is
// a 401.
func (s *Server) browserSession(c echo.Context) (session, error) {
	ck, err := c.Cookie(s.sessionCookieName())
	if err != nil || ck.Value == "" {
		return session{}, membership.Errorf(membership.Unauthorized, "session_required",
			"this form needs a signed-in browser session: sign in with GET /login?token=<admin token>")
	}
	return s.sessions.decode(ck.Value, time.Now())
}

// checkForm guards a form post of sess: the request must not come from
// another site (Sec-Fetch-Site and Origin, when the browser sends them) and
// must carry the session's CSRF token for purpose in the csrf_token field of
// a url-encoded body. Failures are 403 with code csrf.
func (s *Server) checkForm(c echo.Context, sess session, purpose string) error {
	req := c.Request()
	if !sameOrigin(req) {
		return membership.Errorf(membership.Forbidden, "csrf", "cross-site form posts are refused")
	}
	if req.ContentLength > maxFormBody {
		return membership.Errorf(membership.TooLarge, "body_too_large", "request body over %d bytes", maxFormBody)
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxFormBody)
	if err := req.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return membership.Errorf(membership.TooLarge, "body_too_large", "request body over %d bytes", maxFormBody)
		}
		return membership.Errorf(membership.Invalid, "invalid_form", "the form body cannot be parsed")
	}
	// Only the body counts: a token in the URL would end up in logs and Referer headers.
	tok := req.PostForm[csrfField]
	if len(tok) != 1 || !s.sessions.validCSRF(sess, purpose, tok[0]) {
		return membership.Errorf(membership.Forbidden, "csrf", "missing or invalid CSRF token: reload the page and submit the form again")
	}
	return nil
}

// sameOrigin reports whether a request may come from this site's own pages:
// Sec-Fetch-Site, when sent, must be same-origin (or none: typed by the user),
// and Origin, when sent, must name this host. A proxy that rewrites Host is
// expected to pass the original in X-Forwarded-Host; trusting that header is
// safe here, since a cross-site form cannot set it.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default: // same-site, cross-site
		return false
	}
	origin := r.Header.Get(echo.HeaderOrigin)
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") { // includes "null"
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, v := range r.Header.Values("X-Forwarded-Host") {
		for h := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(u.Host, strings.TrimSpace(h)) {
				return true
			}
		}
	}
	return false
}
