package workosapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/workos/workos-go/v4/pkg/workos_errors"

	"github.com/seatsync/seatsync/pkg/membership"
)

// wrapErr is the one translation of a failed WorkOS call into an error for
// callers: op plus a *membership.Error of Kind Upstream whose Code names the
// cause. The caller's own cancellation stays a context error, so shutdown is
// not reported as a WorkOS outage. Messages never contain the API key.
func (c *Client) wrapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	var he workos_errors.HTTPError
	if errors.As(err, &he) {
		return fmt.Errorf("%s: %w", op, c.statusError(he))
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return fmt.Errorf("%s: %w (%s)", op, membership.Errorf(membership.Upstream, "workos_bad_response",
			"WorkOS sent a response seatsync cannot read"), c.redact(err.Error()))
	}
	// Anything else is transport-level: refused, reset, DNS, TLS or an attempt
	// timeout, after the retries. The cause goes into the chain's text only:
	// it names hosts, which the client-facing message need not show.
	return fmt.Errorf("%s: %w (%s)", op, membership.Errorf(membership.Upstream, "workos_unreachable",
		"cannot reach WorkOS"), c.redact(err.Error()))
}

// statusError maps an HTTP failure after retries (reference §11.1).
func (c *Client) statusError(he workos_errors.HTTPError) *membership.Error {
	var code, msg string
	switch s := he.Code; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		code, msg = "workos_unauthorized", "WorkOS rejected the API key"
	case s == http.StatusTooManyRequests:
		code, msg = "workos_rate_limited", "WorkOS rate limit exceeded; retried and gave up"
	case s == http.StatusNotFound:
		code, msg = "workos_not_found", "WorkOS has no such object"+describe(he)
	case s == http.StatusBadRequest || s == http.StatusConflict || s == http.StatusUnprocessableEntity:
		code, msg = "workos_invalid_request", "WorkOS refused the request"+describe(he)
	case s >= 500:
		code, msg = "workos_unavailable", "WorkOS is unavailable; retried and gave up"
	default:
		code, msg = "workos_invalid_request", "WorkOS refused the request"+describe(he)
	}
	msg = fmt.Sprintf("%s (HTTP %d", msg, he.Code)
	if he.RequestID != "" {
		msg += ", request id " + he.RequestID
	}
	return membership.Errorf(membership.Upstream, code, "%s)", c.redact(msg))
}

// describe is ": " plus the WorkOS message, error code and field errors, or "".
func describe(he workos_errors.HTTPError) string {
	msg := strings.TrimSpace(he.Message)
	if len(msg) > 300 { // a proxy's HTML page is not a message
		msg = msg[:300] + "…"
	}
	if he.ErrorCode != "" && !strings.Contains(msg, he.ErrorCode) {
		msg += " [" + he.ErrorCode + "]"
	}
	for _, f := range he.FieldErrors {
		msg += fmt.Sprintf("; %s: %s", f.Field, f.Code)
	}
	if msg = strings.TrimLeft(msg, " ;"); msg == "" {
		return ""
	}
	return ": " + msg
}

// redact removes the API key from text that may echo a request.
func (c *Client) redact(s string) string {
	return strings.ReplaceAll(s, c.apiKey, "[redacted]")
}
