package server

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// hstsValue asks browsers to use HTTPS only for a year. No includeSubDomains:
// the product's other hosts are not ours to constrain.
const hstsValue = "max-age=31536000"

// securityHeaders sets the headers every response needs whatever its handler
// does, errors included (they are set before the handler runs). The admin
// API's answers carry tokens' results and emails: never cached, never
// sniffed into something a browser would render. HTML pages set their own
// Content-Security-Policy. hsts adds Strict-Transport-Security to
// every response; set it only where TLS terminates in front of seatsync
// (env=production), or a plain-HTTP development server would lock browsers out.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderXContentTypeOptions, "nosniff")
			if strings.HasPrefix(c.Request().URL.Path, "/api/") {
				h.Set("Cache-Control", "no-store")
			}
			if hsts {
				h.Set(echo.HeaderStrictTransportSecurity, hstsValue)
			}
			return next(c)
		}
	}
}
