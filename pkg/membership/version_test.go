package membership_test

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SPEC §4.3: a user's changes are ordered by (updated_at of the user data,
// event created_at, event id); the id only breaks exact ties.
type compareTest struct {
	name string
	v, o membership.Version
	want int
}

var (
	tA = t0
	tB = t0.Add(time.Second)
	tC = t0.Add(time.Minute)
)

var compareTests = []compareTest{
	{"identical versions are equal",
		membership.Version{tA, tA, "event_a"}, membership.Version{tA, tA, "event_a"}, 0},
	{"older updated_at is older",
		membership.Version{tA, tC, "event_z"}, membership.Version{tB, tA, "event_a"}, -1},
	{"newer updated_at is newer whatever created_at and id say",
		membership.Version{tC, tA, "event_a"}, membership.Version{tB, tC, "event_z"}, +1},
	{"same updated_at: older created_at is older",
		membership.Version{tA, tA, "event_z"}, membership.Version{tA, tB, "event_a"}, -1},
	{"same updated_at: newer created_at is newer",
		membership.Version{tA, tC, "event_a"}, membership.Version{tA, tB, "event_z"}, +1},
	{"exact tie: smaller event id is older",
		membership.Version{tA, tB, "event_01"}, membership.Version{tA, tB, "event_02"}, -1},
	{"exact tie: larger event id is newer",
		membership.Version{tA, tB, "event_02"}, membership.Version{tA, tB, "event_01"}, +1},
	{"event ids compare as strings, not numbers",
		membership.Version{tA, tB, "event_10"}, membership.Version{tA, tB, "event_9"}, -1},
	{"the zero version is older than any applied change",
		membership.Version{}, membership.Version{tA, tA, "event_a"}, -1},
	{"missing updated_at sorts before a present one",
		membership.Version{time.Time{}, tC, "event_z"}, membership.Version{tA, tA, "event_a"}, -1},
	{"same instant in another zone is equal",
		membership.Version{tA.In(time.FixedZone("CET", 3600)), tB, "event_a"}, membership.Version{tA, tB.In(time.FixedZone("PST", -8*3600)), "event_a"}, 0},
}

func TestVersionCompare(t *testing.T) {
	t.Parallel()
	for _, tt := range compareTests {
		if got := tt.v.Compare(tt.o); got != tt.want {
			t.Errorf("%s:\n\tv = %+v\n\to = %+v\n\tv.Compare(o) = %d, want %d", tt.name, tt.v, tt.o, got, tt.want)
		}
		if got := tt.o.Compare(tt.v); got != -tt.want {
			t.Errorf("%s (antisymmetry):\n\to = %+v\n\tv = %+v\n\to.Compare(v) = %d, want %d", tt.name, tt.o, tt.v, got, -tt.want)
		}
	}
}

type isZeroTest struct {
	name string
	v    membership.Version
	want bool
}

var isZeroTests = []isZeroTest{
	{"nothing applied yet", membership.Version{}, true},
	{"updated_at set", membership.Version{UpdatedAt: tA}, false},
	{"created_at set", membership.Version{CreatedAt: tA}, false},
	{"event id set", membership.Version{EventID: "event_a"}, false},
}

func TestVersionIsZero(t *testing.T) {
	t.Parallel()
	for _, tt := range isZeroTests {
		if got := tt.v.IsZero(); got != tt.want {
			t.Errorf("%s: %+v.IsZero() = %v, want %v", tt.name, tt.v, got, tt.want)
		}
	}
}
