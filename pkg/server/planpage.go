package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

// GET /plans/{plan_id}: a plan's status, members, audit timeline and seat
// chart, for its admins, signed in through /login.

const (
	// memberPageSize is the members shown per page.
	memberPageSize = 25
	// timelineSize is the audit entries shown per page.
	timelineSize = 20
	// maxSearch bounds the email search, as emails are bounded.
	maxSearch = 254
)

type planPageData struct {
	pageCommon
	Status    planStatus
	Mode      modeView
	Dir       *dirView
	Managed   string // why manual changes are refused, and where to assign people instead; "" when allowed
	Downgrade *time.Time
	SCIM      scimForm
	Members   memberSection
	Timeline  []timelineEntry
	// OlderAudit and NewestAudit page the timeline; "" when there is no such page.
	OlderAudit, NewestAudit string
	Chart                   *seatChart
}

type modeView struct{ Name, Label, Detail string }

type dirView struct {
	ID, TypeName, Name, State string
	LastEventAt               *time.Time
	UsersAdded                int
	ActiveUsers               int64
}

type scimForm struct {
	Action, CSRF string
	Configured   bool // whether workos.api_key is set
}

type memberSection struct {
	Tier, Q string
	Rows    []memberView
	// Next and First page the table; "" when there is no such page.
	Next, First string
	// Action is the filter form's target.
	Action string
}

type memberView struct {
	Email, Name, Tier, Source string
	UpdatedAt                 time.Time
}

// planQuery is the page's query string, validated.
type planQuery struct {
	tier, q, after string // after: the decoded member cursor
	rawAfter       string
	auditBefore    int64
}

func readPlanQuery(c echo.Context) (planQuery, error) {
	pq := planQuery{tier: c.QueryParam("tier"), q: membership.NormalizeEmail(c.QueryParam("q")), rawAfter: c.QueryParam("after")}
	if pq.tier != "" && pq.tier != "paid" && pq.tier != "free" {
		return pq, membership.Errorf(membership.Invalid, "invalid_tier", "tier must be paid or free")
	}
	if len(pq.q) > maxSearch {
		return pq, membership.Errorf(membership.Invalid, "invalid_query", "the email search is longer than an email")
	}
	var err error
	if pq.after, err = decodeCursor(pq.rawAfter); err != nil {
		return pq, err
	}
	if b := c.QueryParam("audit_before"); b != "" {
		if pq.auditBefore, err = strconv.ParseInt(b, 10, 64); err != nil || pq.auditBefore <= 0 {
			return pq, membership.Errorf(membership.Invalid, "invalid_cursor", "audit_before is not an audit entry id")
		}
	}
	return pq, nil
}

// url is the page's URL with the query pq, changed by edit, and a fragment.
func (pq planQuery) url(planID string, edit func(v url.Values), fragment string) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("tier", pq.tier)
	set("q", pq.q)
	set("after", pq.rawAfter)
	if pq.auditBefore > 0 {
		v.Set("audit_before", strconv.FormatInt(pq.auditBefore, 10))
	}
	edit(v)
	u := planPath(planID)
	if q := v.Encode(); q != "" {
		u += "?" + q
	}
	return u + "#" + fragment
}

func planPath(planID string) string { return "/plans/" + url.PathEscape(planID) }

func (s *Server) planPage(c echo.Context) error {
	sess, err := s.pageSession(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	planID := c.Param("plan_id")
	if err := s.authorizePlan(ctx, sess.principal(), planID); err != nil {
		return err
	}
	pq, err := readPlanQuery(c)
	if err != nil {
		return err
	}
	st, err := s.loadStatus(ctx, planID)
	if err != nil {
		return err
	}
	d := planPageData{pageCommon: s.common(st.Name, &sess), Status: st, Downgrade: st.DowngradeDueAt,
		SCIM: scimForm{Action: planPath(planID) + "/configure-scim", CSRF: s.csrfToken(sess, purposeConfigureSCIM),
			Configured: s.WorkOS != nil}}
	if d.Title == "" {
		d.Title = st.ID
	}
	dirNames := map[string]string{}
	for _, ds := range st.Directories {
		dirNames[ds.ID] = directoryName(ds.Type)
	}
	current := ""
	if ds := st.Directory; ds != nil {
		current = dirNames[ds.ID]
		d.Dir = &dirView{ID: ds.ID, TypeName: current, Name: ds.Name, State: ds.State, LastEventAt: ds.LastEventAt,
			UsersAdded: ds.UsersAdded, ActiveUsers: ds.ActiveUsers}
		if d.Dir.TypeName == "" {
			d.Dir.TypeName = ds.Type
		}
	}
	d.Mode, d.Managed = describeMode(st, current)

	if err := s.loadMembers(c, &d, st, pq); err != nil {
		return err
	}
	rows, err := s.Store.Audit(ctx, planID, pq.auditBefore, timelineSize+1)
	if err != nil {
		return err
	}
	if len(rows) > timelineSize {
		rows = rows[:timelineSize]
		before := rows[timelineSize-1].ID
		d.OlderAudit = pq.url(planID, func(v url.Values) { v.Set("audit_before", strconv.FormatInt(before, 10)) }, "audit")
	}
	if pq.auditBefore > 0 {
		d.NewestAudit = pq.url(planID, func(v url.Values) { v.Del("audit_before") }, "audit")
	}
	d.Timeline = timeline(planID, rows, dirNames, current)

	changes, err := s.Store.SeatChanges(ctx, planID, chartChanges+1)
	if err != nil {
		return err
	}
	truncated := len(changes) > chartChanges
	if truncated {
		changes = changes[:chartChanges]
	}
	d.Chart = newSeatChart(seatHistory(planID, changes, st.Seats.Paid, time.Now()), len(changes), truncated)
	return render(c, http.StatusOK, "plan", d)
}

// describeMode says what the plan's mode means for its seats and, when
// manual changes are refused, why and where to assign people instead.
func describeMode(st planStatus, dirName string) (modeView, string) {
	idp := dirName
	if idp == "" && st.Directory != nil && st.Directory.Name != "" {
		idp = st.Directory.Name
	}
	if idp == "" {
		idp = "the directory connected through WorkOS"
	}
	in := dirName
	if in == "" {
		in = "the directory"
	}
	var m modeView
	switch membership.Mode(st.Mode) {
	case membership.ModeManual:
		m = modeView{Name: "manual", Label: "Manual",
			Detail: "No directory is connected: admins give and take paid seats. Configure SCIM to connect your identity provider."}
	case membership.ModeTest:
		added := 0
		if st.Directory != nil {
			added = st.Directory.UsersAdded
		}
		m = modeView{Name: "test", Label: "Test",
			Detail: fmt.Sprintf("%d of %d test users: people assigned in %s get paid seats, and seats given by admins stay. "+
				"When more than %d users have been added, the plan switches to directory mode.", added, st.TestModeLimit, in, st.TestModeLimit)}
	case membership.ModeDirectory:
		m = modeView{Name: "directory", Label: "Directory",
			Detail: "Paid seats are exactly the people assigned to the application in " + in + "."}
		if st.CutoverAt != nil {
			m.Detail += " Cut over on " + st.CutoverAt.UTC().Format("2006-01-02 15:04 UTC") + "."
		}
	default:
		m = modeView{Name: st.Mode, Label: st.Mode}
	}
	if st.ManualChangesAllowed {
		return m, ""
	}
	return m, "Seats are managed by your identity provider (" + idp + "): assign or unassign people to the application there. " +
		"Seats cannot be added or removed here while a directory is connected."
}

func (s *Server) loadMembers(c echo.Context, d *planPageData, st planStatus, pq planQuery) error {
	page, err := s.Store.SearchPlanMembers(c.Request().Context(), st.ID, st.OrganizationID, pq.tier, pq.q, pq.after, memberPageSize)
	if err != nil {
		return err
	}
	d.Members = memberSection{Tier: pq.tier, Q: pq.q, Action: planPath(st.ID)}
	for _, r := range page.Members {
		m := r.Domain()
		mv := memberView{Email: m.Email, Name: m.Name, Tier: "free", UpdatedAt: r.UpdatedAt}
		if m.PlanID != "" {
			mv.Tier, mv.Source = "paid", string(m.Source)
		}
		d.Members.Rows = append(d.Members.Rows, mv)
	}
	if page.After != "" {
		next := encodeCursor(page.After)
		d.Members.Next = pq.url(st.ID, func(v url.Values) { v.Set("after", next) }, "members")
	}
	if pq.after != "" {
		d.Members.First = pq.url(st.ID, func(v url.Values) { v.Del("after") }, "members")
	}
	return nil
}
