package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// heldChangeJSON is a change the mass-revocation guard holds for an admin.
type heldChangeJSON struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	State     string     `json:"state"`
	Size      int        `json:"size"`
	Preview   []string   `json:"preview"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at"`
	DecidedBy string     `json:"decided_by,omitempty"`
}

func heldJSON(h store.HeldChange) heldChangeJSON {
	p := h.PreviewList()
	if p == nil {
		p = []string{}
	}
	return heldChangeJSON{ID: h.ID, Kind: h.Kind, State: h.State, Size: h.Size, Preview: p, CreatedAt: h.CreatedAt,
		DecidedAt: h.DecidedAt, DecidedBy: h.DecidedBy}
}

// approveHeld handles POST /api/v1/plans/{plan_id}/held-changes/{change_id}/approve.
func (s *Server) approveHeld(c echo.Context) error { return s.decideHeld(c, true) }

// rejectHeld handles POST /api/v1/plans/{plan_id}/held-changes/{change_id}/reject.
func (s *Server) rejectHeld(c echo.Context) error { return s.decideHeld(c, false) }

func (s *Server) decideHeld(c echo.Context, approve bool) error {
	id, err := strconv.ParseInt(c.Param("change_id"), 10, 64)
	if err != nil || id <= 0 {
		return membership.Errorf(membership.NotFound, "held_change_not_found", "no such held change")
	}
	h, err := s.Applier.DecideHeld(c.Request().Context(), c.Param("plan_id"), id, approve, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, heldJSON(*h))
}
