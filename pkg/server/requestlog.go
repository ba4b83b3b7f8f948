package server

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"
)

type requestIDKey struct{}

// withRequestID puts the request id (set by middleware.RequestID) into the
// request's context, so that every line logged with that context carries it,
// whichever package logs it (LogHandler).
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := requestID(c); id != "" {
			req := c.Request()
			c.SetRequest(req.WithContext(context.WithValue(req.Context(), requestIDKey{}, id)))
		}
		return next(c)
	}
}

// LogHandler wraps h so that a record logged with a request's context (the
// *Context methods of slog.Logger given c.Request().Context(), or a context
// derived from it) carries the request's request_id. Records that already
// carry one are left alone. cmd/seatsync wraps its one logger with it before
// handing it to every component; New wraps Deps.Log too. Wrapping twice is
// harmless.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{Handler: h}
}

type requestIDHandler struct {
	slog.Handler
	has bool // request_id was added with WithAttrs
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && !h.has && !hasRequestID(r) {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := h.has
	for _, a := range attrs {
		has = has || a.Key == "request_id"
	}
	return requestIDHandler{Handler: h.Handler.WithAttrs(attrs), has: has}
}

// WithGroup keeps the wrapping; the request_id of a grouped logger lands in its group.
func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithGroup(name), has: h.has}
}

func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "request_id"
		return !found
	})
	return found
}
