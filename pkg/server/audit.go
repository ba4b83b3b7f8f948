package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

type auditJSON struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	MemberEmail string    `json:"member_email,omitempty"`
	FromPlanID  string    `json:"from_plan_id,omitempty"`
	EventID     string    `json:"event_id,omitempty"`
	Reason      string    `json:"reason"`
}

type auditList struct {
	Object       string       `json:"object"`
	Data         []auditJSON  `json:"data"`
	ListMetadata listMetadata `json:"list_metadata"`
}

// listAudit returns a plan's audit entries, newest first.
func (s *Server) listAudit(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	var before int64
	if a := c.QueryParam("after"); a != "" {
		cur, err := decodeCursor(a)
		if err != nil {
			return err
		}
		if before, err = strconv.ParseInt(cur, 10, 64); err != nil || before <= 0 {
			return membership.Errorf(membership.Invalid, "invalid_cursor", "after is not a cursor returned by this API")
		}
	}
	rows, err := s.Store.Audit(c.Request().Context(), c.Param("plan_id"), before, limit+1)
	if err != nil {
		return err
	}
	out := auditList{Object: "list", Data: []auditJSON{}}
	if len(rows) > limit {
		rows = rows[:limit]
		a := encodeCursor(strconv.FormatInt(rows[limit-1].ID, 10))
		out.ListMetadata.After = &a
	}
	for _, r := range rows {
		out.Data = append(out.Data, auditJSON{ID: r.ID, At: r.At, Actor: r.Actor, Action: r.Action, MemberEmail: r.MemberEmail,
			FromPlanID: r.FromPlanID, EventID: r.EventID, Reason: r.Reason})
	}
	return c.JSON(http.StatusOK, out)
}
