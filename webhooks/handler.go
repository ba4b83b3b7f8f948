package webhooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

// DefaultMaxBody is the body limit NewHandler uses when given zero (SPEC §2).
const DefaultMaxBody = 1 << 20

// Error codes of request failures other than signatures and envelopes.
const (
	CodeBodyTooLarge        = "body_too_large"
	CodeBodyUnreadable      = "body_unreadable"
	CodeUnsupportedEncoding = "unsupported_encoding"
)

// Receipt statuses of a stored delivery.
const (
	StatusAccepted  = "accepted"
	StatusDuplicate = "duplicate"
	StatusIgnored   = "ignored"
)

// Inbox stores received events durably, deduplicated by event ID, and picks
// their initial outcome with membership.IsKnownEventType. *store.Store
// implements it.
type Inbox interface {
	PutInbox(ctx context.Context, ev membership.InboxEvent) (duplicate bool, err error)
}

// Observer is told about every delivery, for metrics; *metrics.Metrics
// implements it. Calls must not block.
type Observer interface {
	// EventReceived reports a stored delivery: source "webhook", the event
	// type, and its receipt status (accepted, duplicate or ignored).
	EventReceived(source, eventType, status string)
	// WebhookRejected reports a delivery answered with an error, by its code
	// (signature_mismatch, invalid_envelope, database_unavailable …).
	WebhookRejected(code string)
}

// Handler receives WorkOS webhook deliveries (SPEC §2). It only verifies and
// records; appliers apply the rules later, so WorkOS never waits on them.
type Handler struct {
	verifier *Verifier
	inbox    Inbox
	maxBody  int64
	log      *slog.Logger
	obs      Observer
}

// NewHandler returns a Handler. maxBody ≤ 0 means DefaultMaxBody and a nil log
// discards. It panics without a verifier or an inbox: serving unverified or
// unstored webhooks is never what the caller meant.
func NewHandler(v *Verifier, inbox Inbox, maxBody int64, log *slog.Logger) *Handler {
	if v == nil || inbox == nil {
		panic("webhooks: NewHandler needs a verifier and an inbox")
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{verifier: v, inbox: inbox, maxBody: maxBody, log: log, obs: nopObserver{}}
}

// SetObserver makes o hear of every delivery; call it before serving. Nil
// means nobody.
func (h *Handler) SetObserver(o Observer) {
	if o == nil {
		o = nopObserver{}
	}
	h.obs = o
}

type nopObserver struct{}

func (nopObserver) EventReceived(string, string, string) {}
func (nopObserver) WebhookRejected(string)               {}

type receipt struct {
	Status string `json:"status"`
}

// Receive handles POST /webhooks/workos: read, verify, decode, store, and
// acknowledge only after the store has committed. Errors are returned as
// *membership.Error for the server's error handler to turn into a status.
func (h *Handler) Receive(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	body, err := h.readBody(c)
	if err != nil {
		return h.reject(ctx, err)
	}
	if err := h.verify(req.Header, body); err != nil {
		return h.reject(ctx, err)
	}
	env, err := DecodeEnvelope(body)
	if err != nil {
		return h.reject(ctx, err)
	}
	duplicate, err := h.inbox.PutInbox(ctx, env.InboxEvent(body, membership.SourceWebhook))
	if err != nil {
		// Unchanged: the store already made a lost database Kind Unavailable,
		// which becomes 503 so that WorkOS retries.
		return h.reject(ctx, err)
	}
	status := StatusAccepted
	switch {
	case duplicate:
		status = StatusDuplicate
	case !membership.IsKnownEventType(env.Event):
		// Acknowledged so WorkOS does not retry it for days.
		status = StatusIgnored
	}
	h.obs.EventReceived(string(membership.SourceWebhook), env.Event, status)
	// DirectoryID decodes data a second time: only for a line that is written.
	if h.log.Enabled(ctx, slog.LevelInfo) {
		attrs := []any{"event_id", env.ID, "event_type", env.Event}
		if dir := env.DirectoryID(); dir != "" {
			attrs = append(attrs, "directory_id", dir)
		}
		h.log.InfoContext(ctx, "webhook received", append(attrs, "outcome", status)...)
	}
	return c.JSON(http.StatusOK, receipt{Status: status})
}

// readBody reads the raw body once, never through c.Bind: the signature
// covers the exact bytes.
func (h *Handler) readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	// WorkOS does not compress, and inflating before verifying would let
	// an unauthenticated compression bomb past the size limit.
	for _, enc := range req.Header.Values(echo.HeaderContentEncoding) {
		if e := strings.TrimSpace(enc); e != "" && !strings.EqualFold(e, "identity") {
			return nil, membership.Errorf(membership.Invalid, CodeUnsupportedEncoding, "Content-Encoding is not supported; send the body uncompressed")
		}
	}
	if req.ContentLength > h.maxBody {
		return nil, tooLarge(h.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(h.maxBody)
		}
		return nil, membership.Errorf(membership.Invalid, CodeBodyUnreadable, "could not read the request body")
	}
	return body, nil
}

// verify rejects a request carrying several signature headers rather than
// guessing which one a proxy meant.
func (h *Handler) verify(header http.Header, body []byte) error {
	values := header.Values(SignatureHeader)
	if len(values) > 1 {
		return malformed("more than one header")
	}
	var sig string
	if len(values) == 1 {
		sig = values[0]
	}
	return h.verifier.Verify(sig, body)
}

// reject logs why a delivery was refused, by code only: the header, body and
// any email in them stay out of the logs.
func (h *Handler) reject(ctx context.Context, err error) error {
	code := membership.ErrorCode(err)
	h.obs.WebhookRejected(code)
	h.log.WarnContext(ctx, "webhook rejected", "err", code)
	return err
}

func tooLarge(limit int64) error {
	return membership.Errorf(membership.TooLarge, CodeBodyTooLarge, "request body is larger than %d bytes", limit)
}
