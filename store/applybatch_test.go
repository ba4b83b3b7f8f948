package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestFinishBatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		for i := range 3 {
			if _, err := s.PutInbox(ctx, membership.InboxEvent{EventID: fmt.Sprintf("event_%d", i), Type: "dsync.user.created", Payload: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
		}
		var done []store.Finished
		err := s.Tx(ctx, func(tx *store.Store) error {
			rows, err := tx.ClaimPendingBatch(ctx, time.Now().Add(time.Second), 10)
			if err != nil {
				return err
			}
			for i, r := range rows {
				done = append(done, store.Finished{ID: r.ID, Outcome: []membership.Outcome{"applied", "stale", "rejected"}[i], Reason: fmt.Sprint("r", i), PlanID: "p", DirID: "d"})
			}
			return tx.FinishBatch(ctx, done, time.Now())
		})
		if err != nil || len(done) != 3 {
			t.Fatalf("claim and finish: %v (%d claimed)", err, len(done))
		}
		for i, want := range []string{"applied", "stale", "rejected"} {
			r, err := s.InboxEvent(ctx, fmt.Sprintf("event_%d", i))
			if err != nil || r.Status != want || r.Reason != fmt.Sprint("r", i) || r.PlanID != "p" || r.ProcessedAt == nil {
				t.Errorf("event_%d = %+v, %v; want %s", i, r, err, want)
			}
		}
	})
}

// TestBatchRowsRoundTrip writes directory users and members with the batch
// statements and reads them back with the key-list lookups, on both dialects:
// NULLs (a free seat's plan, a member without a directory user), booleans,
// timestamps, keys that are missing, repeated or absent altogether.
func TestBatchRowsRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		putDirectory(t, s)
		v := membership.Version{UpdatedAt: time.Date(2025, 3, 4, 15, 0, 4, 215e6, time.UTC),
			CreatedAt: time.Date(2025, 3, 4, 15, 0, 4, 0, time.UTC), EventID: "event_1"}
		users := []membership.DirectoryUser{
			{ID: "du_1", DirectoryID: "d", OrganizationID: "org_X", Email: "a@x.test", FirstName: "A", LastName: "One",
				State: "active", InA: true, Added: true, Version: v},
			{ID: "du_2", DirectoryID: "d", OrganizationID: "org_X", Email: "b@x.test", State: "inactive", Deleted: true, Version: v},
		}
		members := []store.MemberSave{
			{After: membership.Member{Email: "a@x.test", Name: "A One", PlanID: "p", Source: membership.SourceDirectory, DirectoryUserID: "du_1"}},
			{After: membership.Member{Email: "c@x.test", Name: "C", Source: membership.SourceManual}},
		}
		err := s.Tx(ctx, func(tx *store.Store) error {
			if err := tx.SaveDirectoryUsers(ctx, users); err != nil {
				return err
			}
			return tx.SaveMembers(ctx, "o", members)
		})
		if err != nil {
			t.Fatal(err)
		}
		gotUsers, err := s.DirectoryUsersByID(ctx, []string{"du_2", "du_1", "du_1", "du_missing"})
		if err != nil || len(gotUsers) != 2 {
			t.Fatalf("DirectoryUsersByID = %v, %v; want du_1 and du_2", gotUsers, err)
		}
		for _, u := range users {
			got := gotUsers[u.ID]
			if !got.Version.UpdatedAt.Equal(u.Version.UpdatedAt) || !got.Version.CreatedAt.Equal(u.Version.CreatedAt) {
				t.Errorf("%s version = %+v, want %+v", u.ID, got.Version, u.Version)
			}
			got.Version = u.Version
			if got != u {
				t.Errorf("%s = %+v, want %+v", u.ID, got, u)
			}
		}
		gotMembers, err := s.Members(ctx, "o", []string{"c@x.test", "a@x.test", "nobody@x.test"})
		if err != nil || len(gotMembers) != 2 {
			t.Fatalf("Members = %v, %v; want a and c", gotMembers, err)
		}
		for _, m := range members {
			if got := gotMembers[m.After.Email]; got != m.After {
				t.Errorf("member %s = %+v, want %+v", m.After.Email, got, m.After)
			}
		}
		if got, err := s.Members(ctx, "other_org", []string{"a@x.test"}); err != nil || len(got) != 0 {
			t.Errorf("another organization's lookup = %v, %v; want none", got, err)
		}
		claims, err := s.Claims(ctx, "o", []string{"a@x.test", "b@x.test"}, "")
		if err != nil || len(claims) != 1 || len(claims["a@x.test"]) != 1 ||
			claims["a@x.test"][0] != (membership.Claim{PlanID: "p", DirectoryUserID: "du_1", InA: true}) {
			t.Errorf("Claims = %v, %v; want a@x.test by du_1 only (du_2 is deleted)", claims, err)
		}
		if got, err := s.Claims(ctx, "o", []string{"a@x.test"}, "du_1"); err != nil || len(got) != 0 {
			t.Errorf("Claims except du_1 = %v, %v; want none", got, err)
		}
		for name, lookup := range map[string]func() (int, error){
			"users":   func() (int, error) { m, err := s.DirectoryUsersByID(ctx, nil); return len(m), err },
			"members": func() (int, error) { m, err := s.Members(ctx, "o", nil); return len(m), err },
			"claims":  func() (int, error) { m, err := s.Claims(ctx, "o", []string{}, ""); return len(m), err },
		} {
			if n, err := lookup(); err != nil || n != 0 {
				t.Errorf("%s by no keys = %d, %v; want none", name, n, err)
			}
		}
	})
}
