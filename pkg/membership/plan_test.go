package membership_test

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SPEC §3: the plan cuts over from test to directory mode once |E| > L; the
// downgrade of everyone else is due after the grace period (0 = now).
type cutoverTest struct {
	name  string
	plan  membership.Plan
	added int
	want  cutoverWant
}

type cutoverWant struct {
	cut        bool
	mode       membership.Mode
	cutoverAt  *time.Time
	dueAt      *time.Time
	downgraded *time.Time
}

var (
	now      = t0.Add(24 * time.Hour)
	earlier  = t0
	inTenMin = now.Add(10 * time.Minute)
)

func planIn(mode membership.Mode, limit int, grace time.Duration) membership.Plan {
	return membership.Plan{ID: p1, Mode: mode, Limit: limit, Grace: grace}
}

func cutOver(p membership.Plan) membership.Plan {
	p.Mode, p.CutoverAt, p.DowngradedAt = membership.ModeDirectory, &earlier, &earlier
	return p
}

func frozen(p membership.Plan) membership.Plan {
	p.Frozen = true
	return p
}

var cutoverTests = []cutoverTest{
	{"test mode at |E| = L stays in test mode",
		planIn(membership.ModeTest, 3, 0), 3, cutoverWant{mode: membership.ModeTest}},
	{"test mode below L stays in test mode",
		planIn(membership.ModeTest, 3, 0), 1, cutoverWant{mode: membership.ModeTest}},
	{"cutover at |E| = L+1, grace 0: downgraded at once",
		planIn(membership.ModeTest, 3, 0), 4, cutoverWant{cut: true, mode: membership.ModeDirectory, cutoverAt: &now, downgraded: &now}},
	{"cutover with grace: downgrade due at now+grace",
		planIn(membership.ModeTest, 3, 10*time.Minute), 4, cutoverWant{cut: true, mode: membership.ModeDirectory, cutoverAt: &now, dueAt: &inTenMin}},
	{"negative grace counts as 0",
		planIn(membership.ModeTest, 3, -time.Minute), 4, cutoverWant{cut: true, mode: membership.ModeDirectory, cutoverAt: &now, downgraded: &now}},
	{"limit 0: the first user added cuts over",
		planIn(membership.ModeTest, 0, 0), 1, cutoverWant{cut: true, mode: membership.ModeDirectory, cutoverAt: &now, downgraded: &now}},
	{"a jump far past L cuts over once",
		planIn(membership.ModeTest, 3, 0), 500, cutoverWant{cut: true, mode: membership.ModeDirectory, cutoverAt: &now, downgraded: &now}},
	{"manual mode never cuts over",
		planIn(membership.ModeManual, 3, 0), 100, cutoverWant{mode: membership.ModeManual}},
	{"a frozen plan does not cut over",
		frozen(planIn(membership.ModeTest, 3, 0)), 4, cutoverWant{mode: membership.ModeTest}},
	{"directory mode: no second cutover",
		cutOver(planIn(membership.ModeTest, 3, 0)), 9, cutoverWant{mode: membership.ModeDirectory, cutoverAt: &earlier, downgraded: &earlier}},
	{"nothing undoes a cutover: a smaller count keeps directory mode",
		cutOver(planIn(membership.ModeTest, 3, 0)), 1, cutoverWant{mode: membership.ModeDirectory, cutoverAt: &earlier, downgraded: &earlier}},
}

func TestCheckCutover(t *testing.T) {
	t.Parallel()
	for _, tt := range cutoverTests {
		got, cut := membership.CheckCutover(tt.plan, tt.added, now)
		w := tt.want
		if cut != w.cut || got.Mode != w.mode || !sameTime(got.CutoverAt, w.cutoverAt) ||
			!sameTime(got.DowngradeDueAt, w.dueAt) || !sameTime(got.DowngradedAt, w.downgraded) || got.Added != tt.added {
			t.Errorf("%s:\n\tCheckCutover(%s, added=%d, now) =\n\t\t%s, cut=%v\n\twant\n\t\tmode=%s added=%d cutover=%s due=%s downgraded=%s, cut=%v",
				tt.name, planString(tt.plan), tt.added, planString(got), cut,
				w.mode, tt.added, timeString(w.cutoverAt), timeString(w.dueAt), timeString(w.downgraded), w.cut)
		}
		if got.Frozen != tt.plan.Frozen || got.Limit != tt.plan.Limit || got.Grace != tt.plan.Grace || got.ID != tt.plan.ID {
			t.Errorf("%s: CheckCutover changed fields it does not own: %+v -> %+v", tt.name, tt.plan, got)
		}
	}
}

// The pointers CheckCutover returns must not alias each other: the store saves
// them separately and a later change of one must not move the other.
func TestCheckCutoverTimesDoNotAlias(t *testing.T) {
	t.Parallel()
	got, _ := membership.CheckCutover(planIn(membership.ModeTest, 0, time.Minute), 1, now)
	if got.CutoverAt == nil || got.DowngradeDueAt == nil || got.CutoverAt == got.DowngradeDueAt {
		t.Fatalf("CutoverAt=%p DowngradeDueAt=%p: want two distinct times", got.CutoverAt, got.DowngradeDueAt)
	}
}

type manualChangesTest struct {
	name string
	mode membership.Mode
	want bool
}

var manualChangesTests = []manualChangesTest{
	{"manual mode: admins manage seats", membership.ModeManual, true},
	{"test mode: the identity provider owns the seat list", membership.ModeTest, false},
	{"directory mode: the identity provider owns the seat list", membership.ModeDirectory, false},
}

func TestManualChangesAllowed(t *testing.T) {
	t.Parallel()
	for _, tt := range manualChangesTests {
		if got := (membership.Plan{Mode: tt.mode}).ManualChangesAllowed(); got != tt.want {
			t.Errorf("%s: Plan{Mode: %s}.ManualChangesAllowed() = %v, want %v", tt.name, tt.mode, got, tt.want)
		}
	}
}

func TestPlanView(t *testing.T) {
	t.Parallel()
	p := cutOver(planIn(membership.ModeTest, 3, 0))
	p.Frozen = true
	want := membership.PlanView{ID: p1, Mode: membership.ModeDirectory, DowngradeDone: true, Frozen: true}
	if got := p.View(); got != want {
		t.Errorf("View() = %+v, want %+v", got, want)
	}
	p.DowngradedAt, p.DowngradeDueAt = nil, &inTenMin
	want.DowngradeDone = false
	if got := p.View(); got != want {
		t.Errorf("pending downgrade: View() = %+v, want %+v", got, want)
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func timeString(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func planString(p membership.Plan) string {
	return "{mode=" + string(p.Mode) + " limit=" + itoa(p.Limit) + " added=" + itoa(p.Added) + " grace=" + p.Grace.String() +
		" cutover=" + timeString(p.CutoverAt) + " due=" + timeString(p.DowngradeDueAt) + " downgraded=" + timeString(p.DowngradedAt) +
		" frozen=" + map[bool]string{true: "yes", false: "no"}[p.Frozen] + "}"
}
