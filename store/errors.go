package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/seatsync/seatsync/pkg/membership"
)

// translate maps database failures onto domain errors at the store's boundary:
// a database that cannot be reached becomes Unavailable (503 + Retry-After), so
// WorkOS retries instead of dropping the event.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var me *membership.Error
	switch {
	case errors.As(err, &me):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return membership.Errorf(membership.NotFound, "not_found", "not found")
	case unavailable(err):
		return &unavailableError{err}
	}
	return err
}

func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P0x: admin shutdown, crash, cannot connect now;
		// 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	// A pooled connection the server dropped (restart, failover): pgconn
	// reports it as closed, or as EOF in the middle of a message.
	if errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "bad connection") || strings.Contains(msg, "sql: database is closed")
}

// unavailableError keeps the cause for logs and exposes a safe domain error.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error {
	return []error{membership.Errorf(membership.Unavailable, "database_unavailable", "the database is unavailable, retry later"), e.cause}
}

// IsTxConflict reports whether the database rolled err's transaction back as
// the victim of a deadlock (40P01) or a serialization failure (40001): nothing
// is wrong with the work itself, and running the transaction again succeeds.
func IsTxConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// IsUnavailable reports whether err means the database could not be reached.
func IsUnavailable(err error) bool { return membership.ErrorKind(err) == membership.Unavailable }
