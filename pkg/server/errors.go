package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

// statuses is the one table from error kinds to HTTP statuses.
var statuses = map[membership.Kind]int{
	membership.Invalid:      http.StatusBadRequest,
	membership.Unauthorized: http.StatusUnauthorized,
	membership.Forbidden:    http.StatusForbidden,
	membership.NotFound:     http.StatusNotFound,
	membership.Conflict:     http.StatusConflict,
	membership.TooLarge:     http.StatusRequestEntityTooLarge,
	membership.Upstream:     http.StatusBadGateway,
	membership.Unavailable:  http.StatusServiceUnavailable,
	membership.TooMany:      http.StatusTooManyRequests,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorHandler is the only place that turns an error into a status and a body.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := http.StatusInternalServerError, errorDetail{Code: "internal", Message: "internal error"}
		var me *membership.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &me):
			if s, ok := statuses[me.Kind]; ok {
				status, body = s, errorDetail{Code: me.Code, Message: me.Message}
			}
		case errors.As(err, &he):
			status = he.Code
			body = errorDetail{Code: http.StatusText(he.Code), Message: http.StatusText(he.Code)}
			if status == http.StatusNotFound {
				body.Code = "not_found"
			} else if status == http.StatusMethodNotAllowed {
				body.Code = "method_not_allowed"
			}
		}
		if status == http.StatusInternalServerError {
			log.ErrorContext(c.Request().Context(), "request failed", "request_id", requestID(c), "err", err)
		}
		// A handler that knows better (the rate limiter) sets Retry-After itself.
		if h := c.Response().Header(); h.Get("Retry-After") == "" {
			switch status {
			case http.StatusServiceUnavailable:
				h.Set("Retry-After", "5")
			case http.StatusTooManyRequests:
				h.Set("Retry-After", "1")
			}
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		if wantsHTML(c) { // the admin pages (page.go): the same status, as a page
			_ = renderErrorPage(c, status, body.Code, body.Message)
			return
		}
		_ = c.JSON(status, errorBody{Error: body})
	}
}
