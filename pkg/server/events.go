package server

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// outcomes are the inbox statuses GET /api/v1/events filters on.
var outcomes = []string{
	string(membership.OutcomePending), string(membership.OutcomeApplied), string(membership.OutcomeIgnored),
	string(membership.OutcomeStale), string(membership.OutcomeRejected), string(membership.OutcomeUnmatched),
	string(membership.OutcomeConflict), string(membership.OutcomeFailed),
}

// maxRetryIDs bounds the event ids of one retry request.
const maxRetryIDs = 1000

type eventJSON struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	ReceivedAt  time.Time `json:"received_at"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error"`
	PlanID      string    `json:"plan_id"`
	DirectoryID string    `json:"directory_id"`
}

type eventList struct {
	Object       string       `json:"object"`
	Data         []eventJSON  `json:"data"`
	ListMetadata listMetadata `json:"list_metadata"`
}

// listEvents lists inbox events oldest first, optionally of one outcome, for
// operators repairing parked events (service only).
func (s *Server) listEvents(c echo.Context) error {
	outcome := c.QueryParam("outcome")
	if outcome != "" && !slices.Contains(outcomes, outcome) {
		return membership.Errorf(membership.Invalid, "invalid_outcome", "outcome must be one of %v", outcomes)
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	var after int64
	if a := c.QueryParam("after"); a != "" {
		cur, err := decodeCursor(a)
		if err != nil {
			return err
		}
		if after, err = strconv.ParseInt(cur, 10, 64); err != nil || after <= 0 {
			return membership.Errorf(membership.Invalid, "invalid_cursor", "after is not a cursor returned by this API")
		}
	}
	evs, next, err := s.Store.ListEvents(c.Request().Context(), outcome, after, limit)
	if err != nil {
		return err
	}
	out := eventList{Object: "list", Data: make([]eventJSON, 0, len(evs))}
	for _, e := range evs {
		out.Data = append(out.Data, eventJSON{ID: e.EventID, Event: e.EventType, ReceivedAt: e.ReceivedAt.UTC(), Status: e.Status,
			Reason: e.Reason, Attempts: e.Attempts, LastError: e.LastError, PlanID: e.PlanID, DirectoryID: e.DirectoryID})
	}
	if next != 0 {
		a := encodeCursor(strconv.FormatInt(next, 10))
		out.ListMetadata.After = &a
	}
	return c.JSON(http.StatusOK, out)
}

type retryBody struct {
	EventIDs []string `json:"event_ids"`
	Outcome  string   `json:"outcome"`
}

type retryResult struct {
	Retried int `json:"retried"`
	Skipped int `json:"skipped"`
}

// retryEvents sends parked events (failed, rejected, unmatched, conflict) back
// to the appliers after an operator fixed their cause (service only). It is an
// inbox operation, not a seat change: it is logged, not audited; whatever the
// re-run changes is audited by the applier as usual.
func (s *Server) retryEvents(c echo.Context) error {
	var b retryBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if (len(b.EventIDs) == 0) == (b.Outcome == "") {
		return membership.Errorf(membership.Invalid, "invalid_selection", "give either event_ids or outcome")
	}
	if len(b.EventIDs) > maxRetryIDs {
		return membership.Errorf(membership.Invalid, "too_many_event_ids", "at most %d event_ids per request", maxRetryIDs)
	}
	for _, id := range b.EventIDs {
		if !validEventID(id) {
			return membership.Errorf(membership.Invalid, "invalid_event_id", "event ids are 1 to 255 printable ASCII characters")
		}
	}
	if b.Outcome != "" && !slices.Contains(store.RetryableStatuses, b.Outcome) {
		return membership.Errorf(membership.Invalid, "invalid_outcome", "outcome must be one of %v", store.RetryableStatuses)
	}
	ctx := c.Request().Context()
	who := retryActor(c)
	res, err := s.Store.RetryEvents(ctx, store.RetrySelection{EventIDs: b.EventIDs, Status: b.Outcome}, who, time.Now())
	if err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "inbox events retried", "request_id", requestID(c), "actor", who, "outcome", b.Outcome,
		"event_ids", len(b.EventIDs), "retried", res.Retried, "skipped", res.Skipped)
	if res.Retried > 0 && s.Applier != nil {
		s.Applier.Kick()
	}
	return c.JSON(http.StatusOK, retryResult{Retried: res.Retried, Skipped: res.Skipped})
}

// retryActor names who retried, for the events' reason and the log. Only
// service tokens get here, whose subject names a system, not a person.
func retryActor(c echo.Context) string {
	p, _ := auth.PrincipalFrom(c)
	return "service:" + p.Email
}

// validEventID accepts what the webhook envelope accepts as an id.
func validEventID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
