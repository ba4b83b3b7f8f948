package server

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every /api/v1 route; openapi_test.go checks real
// requests and responses of each operation against it.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// openAPI is GET /api/v1/openapi.yaml, without authentication.
func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openAPIDocument)
}
