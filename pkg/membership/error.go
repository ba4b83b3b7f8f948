package membership

import (
	"errors"
	"fmt"
)

// Kind classifies an Error; it alone decides the HTTP status (pkg/server/errors.go).
type Kind int

// The kinds of Error.
const (
	Internal Kind = iota
	Invalid
	Unauthorized
	Forbidden
	NotFound
	Conflict
	TooLarge
	Upstream
	Unavailable
	TooMany
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "upstream", "unavailable", "too_many"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the error type every layer returns for failures a client should see.
// Code is the client contract (e.g. "idp_managed", "signature_stale"); Message is
// safe to show to the caller.
type Error struct {
	Kind    Kind
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the Kind of the first *Error in err's chain, or Internal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// ErrorCode returns the Code of the first *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
