package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestReconciliation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		putDirectory(t, s)
		for _, id := range []string{"u1", "u2", "u3", "u4"} {
			if err := s.SaveDirectoryUser(ctx, membership.DirectoryUser{ID: id, DirectoryID: "d", Deleted: id == "u4"}); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		row, resumed, err := s.StartReconciliation(ctx, "d", "p", "run1", t0)
		if err != nil || resumed || row.RunID != "run1" || row.State != store.ReconcileRunning || row.Cursor != "" {
			t.Fatalf("start = %+v, %v, %v", row, resumed, err)
		}
		row.Cursor, row.Listed, row.Changed, row.Requests = "u1", 1, 1, 1
		if err := s.SaveReconciliation(ctx, row, []string{"u1"}); err != nil {
			t.Fatal(err)
		}
		// The same page again, after a crash between applying and saving.
		if err := s.SaveReconciliation(ctx, row, []string{"u1"}); err != nil {
			t.Fatal(err)
		}
		got, resumed, err := s.StartReconciliation(ctx, "d", "p", "run2", t0.Add(time.Hour))
		if err != nil || !resumed || got.RunID != "run1" || got.Cursor != "u1" || got.Listed != 1 || !got.StartedAt.Equal(t0) {
			t.Fatalf("resume = %+v, %v, %v; want run1 at cursor u1", got, resumed, err)
		}
		unseen, err := s.UnseenDirectoryUsers(ctx, "d", "run1", "", 10)
		if ids := userIDs(unseen); err != nil || !slices.Equal(ids, []string{"u2", "u3"}) {
			t.Fatalf("unseen = %v, %v; want u2 u3 (u1 seen, u4 deleted)", ids, err)
		}
		if unseen, _ := s.UnseenDirectoryUsers(ctx, "d", "run1", "u2", 10); !slices.Equal(userIDs(unseen), []string{"u3"}) {
			t.Errorf("unseen after u2 = %v", userIDs(unseen))
		}
		if n, err := s.LiveDirectoryUsers(ctx, "d"); err != nil || n != 3 {
			t.Errorf("LiveDirectoryUsers = %d, %v; want 3", n, err)
		}
		done := t0.Add(time.Minute)
		got.State, got.FinishedAt, got.Gone = store.ReconcileComplete, &done, 2
		if err := s.SaveReconciliation(ctx, got, nil); err != nil {
			t.Fatal(err)
		}
		// Finished: the seen ids are dropped, and a late save of the old run is refused.
		if unseen, _ := s.UnseenDirectoryUsers(ctx, "d", "run1", "", 10); len(unseen) != 3 {
			t.Errorf("unseen after finishing = %v, want all three live users", userIDs(unseen))
		}
		err = s.SaveReconciliation(ctx, row, nil)
		if membership.ErrorKind(err) != membership.Conflict || membership.ErrorCode(err) != "reconcile_running" {
			t.Errorf("save of a finished run: %v, want Conflict reconcile_running", err)
		}
		rows, err := s.PlanReconciliations(ctx, "p")
		if err != nil || len(rows) != 1 || rows[0].State != store.ReconcileComplete || rows[0].Gone != 2 || rows[0].FinishedAt == nil {
			t.Fatalf("PlanReconciliations = %+v, %v", rows, err)
		}
		next, resumed, err := s.StartReconciliation(ctx, "d", "p", "run3", t0.Add(2*time.Hour))
		if err != nil || resumed || next.RunID != "run3" || next.Listed != 0 || next.Cursor != "" {
			t.Fatalf("next run = %+v, %v, %v; want a fresh run3", next, resumed, err)
		}
		if rows, _ := s.PlanReconciliations(ctx, "p"); rows[0].FinishedAt != nil || rows[0].Gone != 0 || rows[0].RunID != "run3" {
			t.Errorf("row after a new start = %+v", rows[0])
		}
	})
}

func TestLeaseHeld(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		held := func(want bool) {
			t.Helper()
			if got, err := s.LeaseHeld(ctx, "x"); err != nil || got != want {
				t.Fatalf("LeaseHeld = %v, %v; want %v", got, err, want)
			}
		}
		held(false)
		if _, err := s.TryLease(ctx, "x", "a", time.Minute); err != nil {
			t.Fatal(err)
		}
		held(true)
		if _, err := s.TryLease(ctx, "x", "a", -time.Second); err != nil {
			t.Fatal(err)
		}
		held(false) // expired
	})
}

func userIDs(us []membership.DirectoryUser) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

// putDirectory stores organization o, its plan p and directory d (WorkOS
// organization org_X), the fixture of the store tests about directory users.
func putDirectory(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := t.Context()
	if err := s.PutOrganization(ctx, membership.Organization{ID: "o"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPlan(ctx, membership.PlanSpec{ID: "p", OrganizationID: "o"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDirectory(ctx, &store.DirectoryRow{ID: "d", PlanID: "p", OrganizationID: "org_X", State: "active"}); err != nil {
		t.Fatal(err)
	}
}
