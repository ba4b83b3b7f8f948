package server

import "time"

// Test hooks for package server_test: the browser forms' CSRF tokens and
// session cookies, computed with the secret a test gave Deps.SessionSecret.

// PurposeConfigureSCIM is the CSRF purpose of POST /plans/{id}/configure-scim.
const PurposeConfigureSCIM = purposeConfigureSCIM

// CSRFTokenFor returns the CSRF token of purpose for the session in cookie
// (the session cookie's value), as a page would embed it.
func CSRFTokenFor(secret, cookie, purpose string) (string, error) {
	s := &Server{}
	s.sessions, _ = newSessionKeys(secret)
	sess, err := s.sessions.decode(cookie, time.Now())
	if err != nil {
		return "", err
	}
	return s.csrfToken(sess, purpose), nil
}

// SessionCookieFor returns a session cookie value for email, valid until expires.
func SessionCookieFor(secret, email string, service bool, expires time.Time) string {
	k, _ := newSessionKeys(secret)
	return k.encode(session{ID: "test-session-" + email, Email: email, Service: service, Expires: expires.Unix()})
}
