package membership_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/seatsync/seatsync/pkg/membership"
)

// engine is an in-memory pkg/applier for one plan and one directory: it keeps
// directory users, members and the plan, and folds user changes through
// ApplyUser the way applier.applyUser and applier.persist do.
type engine struct {
	scope   membership.Scope
	plan    membership.Plan
	users   map[string]membership.DirectoryUser
	members map[string]membership.Member
	now     time.Time
}

func newEngine(limit int, scope membership.Scope, manual []string) *engine {
	e := &engine{scope: scope, now: t0,
		plan:  membership.Plan{ID: p1, OrganizationID: "org_1", Mode: membership.ModeManual, Limit: limit},
		users: map[string]membership.DirectoryUser{}, members: map[string]membership.Member{}}
	for _, m := range manual {
		e.members[m] = manualSeat(m, p1)
	}
	return e
}

// deliver applies one received user change.
func (e *engine) deliver(ch membership.UserChange) membership.UserResult {
	e.now = e.now.Add(time.Second)
	if e.plan.Mode == membership.ModeManual {
		// link: the first event of an active directory switches the plan to test mode.
		e.plan.Mode, e.plan.CutoverAt, e.plan.DowngradeDueAt, e.plan.DowngradedAt = membership.ModeTest, nil, nil, nil
	}
	u := ch.User
	var stored *membership.DirectoryUser
	if s, ok := e.users[u.ID]; ok {
		stored = &s
	}
	emails := []string{}
	if u.Email != "" {
		emails = append(emails, u.Email)
	}
	if stored != nil && stored.Email != "" && stored.Email != u.Email {
		emails = append(emails, stored.Email)
	}
	snap := membership.UserSnapshot{Now: e.now, Plan: e.plan, Scope: e.scope, Stored: stored,
		Members: map[string]membership.Member{}, Claims: map[string][]membership.Claim{},
		Plans: map[string]membership.PlanView{e.plan.ID: e.plan.View()}}
	for _, email := range emails {
		if m, ok := e.members[email]; ok {
			snap.Members[email] = m
		}
		// store.Claims: live, not deleted users carrying the email, except u, by id.
		for _, id := range slices.Sorted(maps.Keys(e.users)) {
			if d := e.users[id]; id != u.ID && !d.Deleted && d.Email == email {
				snap.Claims[email] = append(snap.Claims[email], membership.Claim{PlanID: e.plan.ID, DirectoryUserID: id, InA: d.InA})
			}
		}
	}
	r := membership.ApplyUser(snap, ch)
	// persist
	if r.User != nil {
		e.users[r.User.ID] = *r.User
	}
	e.plan.Added += r.Plan.Added - snap.Plan.Added
	for _, c := range r.Changes {
		e.members[c.After.Email] = c.After
	}
	if r.Cutover {
		e.plan.Mode, e.plan.CutoverAt, e.plan.DowngradeDueAt, e.plan.DowngradedAt = r.Plan.Mode, r.Plan.CutoverAt, r.Plan.DowngradeDueAt, r.Plan.DowngradedAt
		if r.Plan.DowngradedAt != nil {
			e.downgrade()
		}
	}
	return r
}

// downgrade is store.Downgrade: every paid member of the plan whose email no
// directory user in A carries moves to free.
func (e *engine) downgrade() {
	inA := map[string]bool{}
	for _, u := range e.users {
		if u.InA && !u.Deleted {
			inA[u.Email] = true
		}
	}
	for email, m := range e.members {
		if m.PlanID == e.plan.ID && !inA[email] {
			m.PlanID, m.Source = "", membership.SourceNone
			e.members[email] = m
		}
	}
}

// seats returns the paid seats: email -> plan/source/directory_user. A free
// member and no member are the same seat.
func (e *engine) seats() map[string]string {
	out := map[string]string{}
	for email, m := range e.members {
		if m.Paid() {
			out[email] = seatString(memberSeat(m))
		}
	}
	return out
}

// state is what must not depend on the delivery order.
func (e *engine) state() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan: mode=%s added=%d downgraded=%v due=%v\n", e.plan.Mode, e.plan.Added, e.plan.DowngradedAt != nil, e.plan.DowngradeDueAt != nil)
	seats := e.seats()
	for _, email := range slices.Sorted(maps.Keys(seats)) {
		fmt.Fprintf(&b, "seat: %s -> %s\n", email, seats[email])
	}
	for _, id := range slices.Sorted(maps.Keys(e.users)) {
		u := e.users[id]
		fmt.Fprintf(&b, "user: %s name=%q version=%s/%s/%s\n", userString(&u), u.Name(),
			u.Version.UpdatedAt.Format(time.TimeOnly), u.Version.CreatedAt.Format(time.TimeOnly), u.Version.EventID)
	}
	return b.String()
}

// history is a generated directory history of one plan.
type history struct {
	limit   int
	manual  []string // emails with a manual seat before the directory
	scope   membership.Scope
	changes []membership.UserChange // in order: each user's changes by increasing version
}

func (h history) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "L=%d manual=%v allowed=%v\n", h.limit, h.manual, h.scope.AllowedDomains)
	for _, ch := range h.changes {
		fmt.Fprintf(&b, "\t%s\n", changeLine(ch))
	}
	return b.String()
}

func changeLine(ch membership.UserChange) string {
	u := ch.User
	s := fmt.Sprintf("%s %s %s state=%s", ch.EventID, u.ID, u.Email, u.State)
	if u.Deleted {
		s += " DELETED"
	}
	return s + fmt.Sprintf(" updated=%s created=%s", u.Version.UpdatedAt.Format(time.TimeOnly), u.Version.CreatedAt.Format(time.TimeOnly))
}

// genHistory draws a history: a few manual seats, then users created,
// updated, renamed to fresh emails (or an unused manual holder's email),
// deactivated, reactivated and deleted, with increasing versions per user
// (sometimes tied on updated_at, then on created_at), interleaved at random.
// Emails are unique to one directory user over the whole history.
func genHistory(t *rapid.T) history {
	h := history{limit: rapid.IntRange(1, 4).Draw(t, "L"), scope: membership.Scope{AllowedDomains: []string{"acme.test"}}}
	nManual := rapid.IntRange(0, 3).Draw(t, "manual seats")
	for i := range nManual {
		h.manual = append(h.manual, fmt.Sprintf("manual%d@acme.test", i))
	}
	unused := slices.Clone(h.manual)
	fresh := 0
	email := func(label string) string {
		switch k := rapid.IntRange(0, 9).Draw(t, label); {
		case k < 3 && len(unused) > 0:
			i := rapid.IntRange(0, len(unused)-1).Draw(t, label+" manual")
			e := unused[i]
			unused = slices.Delete(unused, i, i+1)
			return e
		case k == 3:
			fresh++
			return fmt.Sprintf("user%d@other.test", fresh) // outside the allowed domains
		default:
			fresh++
			return fmt.Sprintf("user%d@acme.test", fresh)
		}
	}
	nUsers := rapid.IntRange(1, 7).Draw(t, "users")
	perUser := make([][]membership.UserChange, nUsers)
	seq := 0
	for i := range nUsers {
		id := fmt.Sprintf("directory_user_%d", i)
		u := membership.DirectoryUser{ID: id, DirectoryID: "directory_1", OrganizationID: "org_1",
			Email: email(id + " email"), FirstName: "F" + strconv.Itoa(i), LastName: "L", State: "active"}
		if rapid.IntRange(0, 3).Draw(t, id+" created inactive") == 0 {
			u.State = "inactive"
		}
		updated, created := t0.Add(time.Duration(i)*time.Hour), t0
		n := rapid.IntRange(1, 6).Draw(t, id+" changes")
		for k := range n {
			label := fmt.Sprintf("%s change %d", id, k)
			if k > 0 {
				switch rapid.SampledFrom([]string{"updated", "renamed", "deactivated", "reactivated", "deleted"}).Draw(t, label) {
				case "updated":
					u.FirstName = fmt.Sprintf("F%d.%d", i, k)
				case "renamed":
					u.Email = email(label + " email")
				case "deactivated":
					u.State = rapid.SampledFrom([]string{"inactive", "suspended"}).Draw(t, label+" state")
				case "reactivated":
					u.State = "active"
				case "deleted":
					u.Deleted = true
				}
				// updated_at may tie; then created_at, then the event id order the changes.
				updated = updated.Add(time.Duration(rapid.IntRange(0, 1).Draw(t, label+" updated+")) * time.Minute)
				created = created.Add(time.Duration(rapid.IntRange(0, 1).Draw(t, label+" created+")) * time.Second)
			}
			seq++
			u.Version = membership.Version{UpdatedAt: updated, CreatedAt: created, EventID: fmt.Sprintf("event_%04d", seq)}
			perUser[i] = append(perUser[i], membership.UserChange{User: u, EventID: u.Version.EventID, Actor: "directory:directory_1"})
			if u.Deleted {
				break // a deleted directory user sends nothing more
			}
		}
	}
	// Interleave the users' changes, each user's in version order.
	for left := nUsers; left > 0; {
		i := rapid.IntRange(0, nUsers-1).Draw(t, "next user")
		for len(perUser[i]) == 0 {
			i = (i + 1) % nUsers
		}
		h.changes = append(h.changes, perUser[i][0])
		if perUser[i] = perUser[i][1:]; len(perUser[i]) == 0 {
			left--
		}
	}
	return h
}

// shuffled draws a delivery of h: the changes in any order, some twice or more.
func shuffled(t *rapid.T, h history) []membership.UserChange {
	out := rapid.Permutation(h.changes).Draw(t, "delivery order")
	dups := rapid.IntRange(0, len(h.changes)).Draw(t, "duplicates")
	for d := range dups {
		ch := h.changes[rapid.IntRange(0, len(h.changes)-1).Draw(t, fmt.Sprintf("duplicate %d", d))]
		at := rapid.IntRange(0, len(out)).Draw(t, fmt.Sprintf("duplicate %d at", d))
		out = slices.Insert(out, at, ch)
	}
	return out
}

func (h history) run(delivery []membership.UserChange) *engine {
	e := newEngine(h.limit, h.scope, h.manual)
	for _, ch := range delivery {
		e.deliver(ch)
	}
	return e
}

// oracle computes the outcome of h from the spec alone: E is every user some
// change shows active in scope; the plan cuts over when |E| > L; the final
// seats are A as directory seats plus, in test mode, the manual seats of
// holders not in A.
func (h history) oracle() (mode membership.Mode, added int, seats map[string]string) {
	e, last := map[string]bool{}, map[string]membership.DirectoryUser{}
	for _, ch := range h.changes {
		if in, _ := membership.InA(ch.User, h.scope); in {
			e[ch.User.ID] = true
		}
		last[ch.User.ID] = ch.User
	}
	mode = membership.ModeTest
	if len(e) > h.limit {
		mode = membership.ModeDirectory
	}
	seats = map[string]string{}
	for _, u := range last {
		if in, _ := membership.InA(u, h.scope); in {
			seats[u.Email] = p1 + "/" + string(membership.SourceDirectory)
		}
	}
	if mode == membership.ModeTest {
		for _, m := range h.manual {
			if _, ok := seats[m]; !ok {
				seats[m] = p1 + "/" + string(membership.SourceManual)
			}
		}
	}
	return mode, len(e), seats
}

// TestConvergence is the property of SPEC §4.3: delivering a history in any
// order, with any duplicates, ends in the same seats, plan mode and directory
// users as delivering it in order, and that outcome is the spec's (oracle).
// Runs 300 histories unless -rapid.checks (or RAPID_CHECKS) says otherwise; a
// failure prints the history, the delivery and -rapid.seed to replay it.
func TestConvergence(t *testing.T) {
	defaultChecks(t, 300)
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		inOrder := h.run(h.changes)
		want := inOrder.state()

		mode, added, seats := h.oracle()
		got := map[string]string{}
		for email, s := range inOrder.seats() {
			got[email] = s[:strings.LastIndexByte(s, '/')]
		}
		if inOrder.plan.Mode != mode || inOrder.plan.Added != added || !maps.Equal(got, seats) {
			t.Fatalf("in order, history:\n%s\ngot  mode=%s added=%d seats=%v\nwant mode=%s added=%d seats=%v",
				h, inOrder.plan.Mode, inOrder.plan.Added, got, mode, added, seats)
		}

		delivery := shuffled(t, h)
		if got := h.run(delivery).state(); got != want {
			var d strings.Builder
			for _, ch := range delivery {
				fmt.Fprintf(&d, "\t%s\n", changeLine(ch))
			}
			t.Fatalf("delivery order changed the outcome\nhistory:\n%s\ndelivery:\n%s\nin order:\n%s\nshuffled:\n%s", h, d.String(), want, got)
		}
	})
}

// defaultChecks raises rapid's default number of checks for one test, unless
// the run chose a number with -rapid.checks or RAPID_CHECKS.
func defaultChecks(t *testing.T, n int) {
	t.Helper()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if set || f == nil || os.Getenv("RAPID_CHECKS") != "" {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}
