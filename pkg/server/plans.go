package server

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

type organizationBody struct {
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

// validName accepts printable text: no C0 or C1 control character (NEL,
// U+0085, included) and no Unicode line or paragraph separator, any of which
// would start a new line wherever the name is shown or logged as text.
func validName(s string) bool {
	return utf8.ValidString(s) && len(s) <= 200 && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	})
}

func (s *Server) putOrganization(c echo.Context) error {
	id := c.Param("org_id")
	if !membership.ValidID(id) {
		return membership.Errorf(membership.Invalid, "invalid_id", "organization id must be 1-128 characters of A-Z a-z 0-9 _ . -")
	}
	var b organizationBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	if !validName(b.Name) {
		return membership.Errorf(membership.Invalid, "invalid_name", "name must be printable text of at most 200 bytes")
	}
	domains, err := membership.NormalizeDomains(b.Domains)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.Store.PutOrganization(ctx, membership.Organization{ID: id, Name: b.Name, Domains: domains}); err != nil {
		return err
	}
	// The allowed domains decide A: re-decide the seats of plans a directory manages.
	plans, err := s.Store.OrganizationPlans(ctx, id)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.Mode != string(membership.ModeManual) {
			if err := s.Applier.Resync(ctx, p.ID); err != nil {
				return err
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "name": b.Name, "domains": domains})
}

type planBody struct {
	OrganizationID       string   `json:"organization_id"`
	Name                 string   `json:"name"`
	Admins               []string `json:"admins"`
	TestModeLimit        *int     `json:"test_mode_limit"`
	ScopingGroups        []string `json:"scoping_groups"`
	WorkOSOrganizationID string   `json:"workos_organization_id"`
}

func (b planBody) spec(id string) (membership.PlanSpec, error) {
	bad := func(code, msg string) (membership.PlanSpec, error) {
		return membership.PlanSpec{}, membership.Errorf(membership.Invalid, code, "%s", msg)
	}
	switch {
	case !membership.ValidID(id):
		return bad("invalid_id", "plan id must be 1-128 characters of A-Z a-z 0-9 _ . -")
	case !membership.ValidID(b.OrganizationID):
		return bad("invalid_organization_id", "organization_id is required")
	case !validName(b.Name):
		return bad("invalid_name", "name must be printable text of at most 200 bytes")
	case b.TestModeLimit != nil && (*b.TestModeLimit < 0 || *b.TestModeLimit > 1_000_000):
		return bad("invalid_test_mode_limit", "test_mode_limit must be between 0 and 1000000")
	case b.WorkOSOrganizationID != "" && !membership.ValidID(b.WorkOSOrganizationID):
		return bad("invalid_workos_organization_id", "workos_organization_id must look like org_…")
	case len(b.Admins) > 100 || len(b.ScopingGroups) > 100:
		return bad("too_many", "at most 100 admins and 100 scoping groups")
	}
	spec := membership.PlanSpec{ID: id, OrganizationID: b.OrganizationID, Name: b.Name, TestModeLimit: b.TestModeLimit,
		WorkOSOrganizationID: b.WorkOSOrganizationID}
	for _, a := range b.Admins {
		a = membership.NormalizeEmail(a)
		if !membership.ValidEmail(a) {
			return bad("invalid_admin", "admins must be email addresses")
		}
		spec.Admins = append(spec.Admins, a)
	}
	for _, g := range b.ScopingGroups {
		if g = strings.TrimSpace(g); g == "" || !validName(g) {
			return bad("invalid_scoping_group", "scoping groups must be group ids or names")
		}
		spec.ScopingGroups = append(spec.ScopingGroups, g)
	}
	return spec, nil
}

func (s *Server) putPlan(c echo.Context) error {
	var b planBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	spec, err := b.spec(c.Param("plan_id"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.Store.Organization(ctx, spec.OrganizationID); err != nil {
		if membership.ErrorKind(err) == membership.NotFound {
			return membership.Errorf(membership.Invalid, "unknown_organization", "organization %s does not exist: PUT it first", spec.OrganizationID)
		}
		return err
	}
	created, err := s.Store.PutPlan(ctx, spec)
	if err != nil {
		return err
	}
	plan, err := s.Store.Plan(ctx, spec.ID)
	if err != nil {
		return err
	}
	if plan.Mode != string(membership.ModeManual) {
		// A new limit or new scoping groups change A or the cutover point.
		if err := s.Applier.Resync(ctx, spec.ID); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return s.writeStatus(c, status, spec.ID)
}

func (s *Server) planStatus(c echo.Context) error {
	return s.writeStatus(c, http.StatusOK, c.Param("plan_id"))
}

type directoryStatus struct {
	ID          string     `json:"id"`
	State       string     `json:"state"`
	Type        string     `json:"type"`
	Name        string     `json:"name"`
	ActiveUsers int64      `json:"active_users"`
	UsersAdded  int        `json:"users_added"`
	LastEventAt *time.Time `json:"last_event_at"`
}

type planStatus struct {
	ID                   string            `json:"id"`
	OrganizationID       string            `json:"organization_id"`
	Name                 string            `json:"name"`
	Mode                 string            `json:"mode"`
	WorkOSOrganizationID string            `json:"workos_organization_id"`
	Directory            *directoryStatus  `json:"directory"`
	Directories          []directoryStatus `json:"directories"`
	TestModeLimit        int               `json:"test_mode_limit"`
	CutoverAt            *time.Time        `json:"cutover_at"`
	DowngradeDueAt       *time.Time        `json:"downgrade_due_at"`
	Seats                struct {
		Paid int64 `json:"paid"`
		Free int64 `json:"free"`
	} `json:"seats"`
	LastEventAt          *time.Time `json:"last_event_at"`
	EventsPending        int64      `json:"events_pending"`
	EventsFailed         int64      `json:"events_failed"`
	ManualChangesAllowed bool       `json:"manual_changes_allowed"`
	// Reconciliation is the drift report of the latest reconciliation; null
	// when the plan was never reconciled (reconcile.go).
	Reconciliation *reconciliationStatus `json:"reconciliation"`
	// HeldChanges are revocations the mass-revocation guard holds for an admin.
	HeldChanges []heldChangeJSON `json:"held_changes"`
}

func (s *Server) writeStatus(c echo.Context, code int, planID string) error {
	st, err := s.loadStatus(c.Request().Context(), planID)
	if err != nil {
		return err
	}
	return c.JSON(code, st)
}

// loadStatus reads the plan status, for the API and the admin page alike,
// from one snapshot of the database: read statement by statement, a status
// could show a reconciliation complete beside the plan mode from before it.
func (s *Server) loadStatus(ctx context.Context, planID string) (planStatus, error) {
	var st planStatus
	err := s.Store.Snapshot(ctx, func(db *store.Store) error {
		var err error
		st, err = s.readStatus(ctx, db, planID)
		return err
	})
	return st, err
}

func (s *Server) readStatus(ctx context.Context, db *store.Store, planID string) (planStatus, error) {
	row, err := db.Plan(ctx, planID)
	if err != nil {
		return planStatus{}, err
	}
	p := row.Domain(s.Rules)
	st := planStatus{ID: row.ID, OrganizationID: row.OrganizationID, Name: row.Name, Mode: row.Mode, TestModeLimit: p.Limit,
		CutoverAt: row.CutoverAt, DowngradeDueAt: row.DowngradeDueAt, ManualChangesAllowed: p.ManualChangesAllowed(),
		Directories: []directoryStatus{}}
	if row.WorkOSOrganizationID != nil {
		st.WorkOSOrganizationID = *row.WorkOSOrganizationID
	}
	dirs, err := db.PlanDirectories(ctx, planID)
	if err != nil {
		return planStatus{}, err
	}
	for _, d := range dirs {
		ds := directoryStatus{ID: d.ID, State: d.State, Type: d.Type, Name: d.Name, UsersAdded: d.UsersAdded, LastEventAt: d.LastEventAt}
		if ds.ActiveUsers, err = db.ActiveUsers(ctx, d.ID); err != nil {
			return planStatus{}, err
		}
		if d.LastEventAt != nil && (st.LastEventAt == nil || d.LastEventAt.After(*st.LastEventAt)) {
			st.LastEventAt = d.LastEventAt
		}
		st.Directories = append(st.Directories, ds)
		if d.State != "deleted" && (st.Directory == nil || st.Directory.State == "deleted") {
			st.Directory = &st.Directories[len(st.Directories)-1]
		}
	}
	if st.Directory == nil && len(st.Directories) > 0 {
		st.Directory = &st.Directories[len(st.Directories)-1]
	}
	if st.Seats.Paid, st.Seats.Free, err = db.SeatCounts(ctx, planID, row.OrganizationID); err != nil {
		return planStatus{}, err
	}
	if st.EventsPending, st.EventsFailed, err = db.PlanEventCounts(ctx, planID); err != nil {
		return planStatus{}, err
	}
	recs, err := db.PlanReconciliations(ctx, planID)
	if err != nil {
		return planStatus{}, err
	}
	st.Reconciliation = summarize(recs)
	held, err := db.HeldChanges(ctx, planID)
	if err != nil {
		return planStatus{}, err
	}
	st.HeldChanges = make([]heldChangeJSON, len(held))
	for i, h := range held {
		st.HeldChanges[i] = heldJSON(h)
	}
	return st, nil
}
