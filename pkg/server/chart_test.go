package server

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

var tc = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(min int) time.Time { return tc.Add(time.Duration(min) * time.Minute) }

func TestPageSeatHistory(t *testing.T) {
	t.Parallel()
	// Newest first, as the store returns them.
	changes := []store.SeatChange{
		{ID: 9, At: at(30), Action: membership.ActionGranted},
		{ID: 8, At: at(20), Action: membership.ActionMovedToFree}, // the downgrade: one instant
		{ID: 7, At: at(20), Action: membership.ActionMovedToFree},
		{ID: 6, At: at(20), Action: membership.ActionDowngrade},                  // moves nothing itself
		{ID: 5, At: at(15), Action: membership.ActionMoved, FromPlanID: "p"},     // left for another plan
		{ID: 4, At: at(12), Action: membership.ActionMoved, FromPlanID: "other"}, // came from another plan
		{ID: 3, At: at(10), Action: membership.ActionManualRemoved},
		{ID: 2, At: at(5), Action: membership.ActionSourceChanged},
		{ID: 1, At: at(1), Action: membership.ActionManualAdded},
	}
	now := at(60)
	// Walking back from the 6 seats of today's counter: 6 → before the grant
	// 5 → before the two moves to free 7 → before the move out 8 → before the
	// move in 7 → before the removal 8 → before the manual add 7.
	got := seatHistory("p", changes, 6, now)
	want := []seatPoint{{at(1), 7}, {at(1), 8}, {at(5), 8}, {at(10), 7}, {at(12), 8}, {at(15), 7}, {at(20), 5}, {at(30), 6}, {now, 6}}
	if !equalPoints(got, want) {
		t.Fatalf("seatHistory = %v\nwant %v", got, want)
	}
	if got := seatHistory("p", nil, 3, now); got != nil {
		t.Errorf("seatHistory of no changes = %v, want nil", got)
	}
	// A change stamped a little after our clock still ends the series at the counter.
	got = seatHistory("p", []store.SeatChange{{At: now.Add(time.Second), Action: membership.ActionGranted}}, 1, now)
	if last := got[len(got)-1]; !last.At.Equal(now.Add(time.Second)) || last.Paid != 1 || got[0].Paid != 0 {
		t.Errorf("seatHistory with a clock ahead = %v", got)
	}
}

func equalPoints(a, b []seatPoint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].At.Equal(b[i].At) || a[i].Paid != b[i].Paid {
			return false
		}
	}
	return true
}

var pointsRE = regexp.MustCompile(`^[0-9.]+,[0-9.]+( [0-9.]+,[0-9.]+)*$`)

func TestPageChart(t *testing.T) {
	t.Parallel()
	if c := newSeatChart(nil, 0, false); c != nil {
		t.Errorf("chart of nothing = %+v, want nil", c)
	}
	pts := []seatPoint{{at(0), 0}, {at(0), 3}, {at(30), 5}, {at(60), 2}}
	c := newSeatChart(pts, 4, false)
	if !pointsRE.MatchString(c.Points) {
		t.Fatalf("points %q are not a list of x,y pairs", c.Points)
	}
	// A step line: start at 0 on the left, end at 2 on the right edge.
	ps := strings.Fields(c.Points)
	if ps[0] != "48.0,190.0" || ps[len(ps)-1] != "624.0,"+num(c.PlotTop+(c.PlotBottom-c.PlotTop)*3/5) {
		t.Errorf("points = %s", c.Points)
	}
	if c.Since != nil || !strings.Contains(c.Summary, "from 0 on 2026-03-01 12:00 UTC to 2 now (highest: 5), over 4 recorded changes") {
		t.Errorf("summary = %q, since %v", c.Summary, c.Since)
	}
	if c.XFrom.Label != "2026-03-01 12:00" || c.XTo.Label != "13:00 UTC" {
		t.Errorf("x labels = %q, %q", c.XFrom.Label, c.XTo.Label)
	}
	if len(c.YTicks) != 3 || c.YTicks[0].Label != "0" || c.YTicks[2].Label != "5" {
		t.Errorf("y ticks = %+v", c.YTicks)
	}
	if c := newSeatChart(pts, 4, true); c.Since == nil || !c.Since.Equal(at(0)) {
		t.Errorf("a truncated history does not say since when: %+v", c.Since)
	}

	// Thousands of changes in a burst stay a few hundred vertices.
	var burst []seatPoint
	for i := range 5000 {
		burst = append(burst, seatPoint{tc.Add(time.Duration(i) * time.Second), int64(i % 7)})
	}
	if n := len(strings.Fields(newSeatChart(burst, 5000, true).Points)); n > 2*int(chartPlotW)+4 {
		t.Errorf("%d vertices for 5000 changes", n)
	}
}

func TestPageSentences(t *testing.T) {
	t.Parallel()
	dirs := map[string]string{"directory_1": "Okta"}
	for _, c := range []struct {
		row      store.AuditRow
		sentence string
		actor    string
	}{
		{store.AuditRow{Action: membership.ActionMovedToFree, MemberEmail: "bob@acme.test", Actor: "system",
			Reason: "not assigned in the directory after cutover"},
			"bob@acme.test moved to free — not assigned in Okta after cutover", "seatsync"},
		{store.AuditRow{Action: membership.ActionGranted, MemberEmail: "ann@acme.test", Actor: "directory:directory_1",
			Reason: "active in the directory"}, "ann@acme.test got a paid seat — active in Okta", "Okta (directory_1)"},
		{store.AuditRow{Action: membership.ActionGranted, MemberEmail: "ann@acme.test", Actor: "directory:directory_9",
			Reason: "active in the directory"}, "ann@acme.test got a paid seat — active in the directory", "directory directory_9"},
		{store.AuditRow{Action: membership.ActionManualAdded, MemberEmail: "cy@acme.test", Actor: "admin:boss@acme.test",
			Reason: "added by an admin"}, "cy@acme.test was given a paid seat by an admin", "boss@acme.test"},
		{store.AuditRow{Action: membership.ActionManualRemoved, MemberEmail: "cy@acme.test", Actor: "service", Reason: "removed by an admin"},
			"cy@acme.test's paid seat was removed by an admin", "the billing system"},
		{store.AuditRow{Action: membership.ActionMoved, MemberEmail: "di@acme.test", FromPlanID: "p", Actor: "directory:directory_1",
			Reason: "moved to plan q: active in the directory"}, "di@acme.test moved to another plan — moved to plan q: active in Okta",
			"Okta (directory_1)"},
		{store.AuditRow{Action: membership.ActionMoved, MemberEmail: "di@acme.test", FromPlanID: "q", Actor: "directory:directory_1",
			Reason: "active in the directory"}, "di@acme.test moved here from plan q — active in Okta", "Okta (directory_1)"},
		{store.AuditRow{Action: membership.ActionCutover, Actor: "directory:directory_1",
			Reason: "more than the test-mode limit of users added by the directory"},
			"Cutover: the plan is now in directory mode — more than the test-mode limit of users added by Okta", "Okta (directory_1)"},
		{store.AuditRow{Action: membership.ActionDirectoryLinked, Actor: "directory:directory_1", Reason: "directory active: plan in test mode"},
			"The Okta directory was connected — directory active: plan in test mode", "Okta (directory_1)"},
		{store.AuditRow{Action: "something_new", MemberEmail: "x@acme.test", Actor: "robot", Reason: "why not"},
			"something new: x@acme.test — why not", "robot"},
	} {
		got := timeline("p", []store.AuditRow{c.row}, dirs, "Okta")[0]
		if got.Sentence != c.sentence || got.Actor != c.actor {
			t.Errorf("%s by %s:\n got %q by %q\nwant %q by %q", c.row.Action, c.row.Actor, got.Sentence, got.Actor, c.sentence, c.actor)
		}
	}
	for typ, want := range map[string]string{"okta scim v2.0": "Okta", "OneLogin SCIM v2.0": "OneLogin", "azure scim v2.0": "Microsoft Entra ID",
		"gsuite directory": "Google Workspace", "generic scim v2.0": "", "": "", "acme idp scim v2.0": "acme idp"} {
		if got := directoryName(typ); got != want {
			t.Errorf("directoryName(%q) = %q, want %q", typ, got, want)
		}
	}
}
