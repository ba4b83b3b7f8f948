package applier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// Every outcome of SPEC §2/§4 an inbox event can end in, on both dialects.

func TestOutcomeApplied(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		ev := userEvent("created", "directory_user_alice", "Alice@Acme.test ", "active", 1)
		w.step(t, ev)
		r := w.wantOutcome(t, ev.EventID, membership.OutcomeApplied, "")
		if r.PlanID != testPlan || r.DirectoryID != testDir || r.ProcessedAt == nil || r.Attempts != 0 || r.LastError != "" {
			t.Errorf("inbox row = plan %q dir %q processed %v attempts %d error %q", r.PlanID, r.DirectoryID, r.ProcessedAt, r.Attempts, r.LastError)
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice (normalized email) = %s, want a directory seat", got)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionGranted, "alice@acme.test")); n != 1 {
			t.Errorf("granted audit entries = %d, want 1", n)
		}
		// A redelivery of the same event id is deduplicated by the inbox.
		dup, err := w.st.PutInbox(t.Context(), ev)
		if err != nil || !dup {
			t.Fatalf("PutInbox again = %v, %v; want duplicate", dup, err)
		}
		if did, err := w.app.ApplyNext(t.Context()); err != nil || did {
			t.Fatalf("ApplyNext after duplicate = %v, %v; want nothing to do", did, err)
		}
	})
}

func TestOutcomeIgnored(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		tok := rawEvent("event_token", "dsync.token.created", `{"id":"event_token","event":"dsync.token.created","data":{},"created_at":"2026-03-01T12:00:00Z"}`)
		conn := rawEvent("event_conn", "connection.activated", `{"id":"event_conn","event":"connection.activated","data":{"id":"conn_1"}}`)
		w.put(t, tok, conn)
		if did, err := w.app.ApplyNext(t.Context()); err != nil || did {
			t.Fatalf("ApplyNext = %v, %v; ignored events are never claimed", did, err)
		}
		for _, id := range []string{tok.EventID, conn.EventID} {
			r := w.wantOutcome(t, id, membership.OutcomeIgnored, "not handled")
			if r.ProcessedAt == nil {
				t.Errorf("%s: ignored without processed_at", id)
			}
		}
		if p := w.plan(t); p.Mode != "manual" {
			t.Errorf("plan mode %s after ignored events, want manual", p.Mode)
		}
	})
}

func TestOutcomeStale(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		// alice: an older update delivered after a newer one is stale.
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("updated", "u_alice", "alice@acme.test", "active", 3))
		old := userEvent("updated", "u_alice", "alice@acme.test", "inactive", 2)
		w.step(t, old)
		w.wantOutcome(t, old.EventID, membership.OutcomeStale, "older")
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s after a stale deactivation, want her seat", got)
		}
		if u := w.dirUser(t, "u_alice"); u.State != "active" || !u.Version.UpdatedAt.Equal(t0.Add(3*time.Minute)) {
			t.Errorf("alice stored as %s @ %v, want active @ v3", u.State, u.Version.UpdatedAt)
		}

		// bob: the deletion arrives first; the late created hits the tombstone.
		del := userEvent("deleted", "u_bob", "bob@acme.test", "active", 2)
		late := userEvent("created", "u_bob", "bob@acme.test", "active", 1)
		w.step(t, del, late)
		w.wantOutcome(t, del.EventID, membership.OutcomeApplied, "")
		w.wantOutcome(t, late.EventID, membership.OutcomeStale, "older")
		if got := w.seat(t, "bob@acme.test"); got != "none" && got != "free" {
			t.Errorf("bob = %s, a late created resurrected a deleted user", got)
		}
		if u := w.dirUser(t, "u_bob"); u == nil || !u.Deleted || u.InA {
			t.Errorf("bob stored as %+v, want a tombstone", u)
		}

		// carol: created, deleted, then a late updated from before the deletion.
		w.step(t, userEvent("created", "u_carol", "carol@acme.test", "active", 1),
			userEvent("deleted", "u_carol", "carol@acme.test", "active", 3))
		lateUpd := userEvent("updated", "u_carol", "carol@acme.test", "active", 2)
		w.step(t, lateUpd)
		w.wantOutcome(t, lateUpd.EventID, membership.OutcomeStale, "older")
		if got := w.seat(t, "carol@acme.test"); got != "free" {
			t.Errorf("carol = %s after deletion and a late update, want free", got)
		}
	})
}

// TestOutcomeRejectedOrganizationMismatch: a user event whose organization_id
// contradicts the directory's stored link changes nothing (SPEC §4.2).
func TestOutcomeRejectedOrganizationMismatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.addPlan(t, "evil", "plan_evil", "org_EVIL")
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1))
		before := w.dirUser(t, "u_alice")
		auditBefore := len(w.audit(t, testPlan)) + len(w.audit(t, "plan_evil"))

		deactivate := userEventFor(testDir, "org_EVIL", "updated", "u_alice", "alice@acme.test", "inactive", 5)
		intruder := userEventFor(testDir, "org_EVIL", "created", "u_mallory", "mallory@acme.test", "active", 5)
		w.step(t, deactivate, intruder)
		for _, id := range []string{deactivate.EventID, intruder.EventID} {
			r := w.wantOutcome(t, id, membership.OutcomeRejected, "organization_id org_EVIL contradicts directory "+testDir)
			if r.ProcessedAt == nil {
				t.Errorf("%s: rejected without processed_at", id)
			}
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s after a rejected event, want her seat", got)
		}
		if after := w.dirUser(t, "u_alice"); *after != *before {
			t.Errorf("alice's directory user changed by a rejected event: %+v → %+v", before, after)
		}
		if u := w.dirUser(t, "u_mallory"); u != nil {
			t.Errorf("rejected event stored directory user %+v", u)
		}
		if got := w.seat(t, "mallory@acme.test"); got != "none" {
			t.Errorf("mallory = %s, want no member", got)
		}
		if _, ok := w.memberIn(t, "evil", "mallory@acme.test"); ok {
			t.Error("rejected event created a member in the other organization")
		}
		if n := len(w.audit(t, testPlan)) + len(w.audit(t, "plan_evil")); n != auditBefore {
			t.Errorf("audit entries %d → %d after rejected events", auditBefore, n)
		}
		if p, _ := w.st.Plan(t.Context(), "plan_evil"); p.Mode != "manual" {
			t.Errorf("other plan mode %s, want manual", p.Mode)
		}
	})
}

// TestOutcomeRejectedForeignDirectoryUser: another customer's directory names a
// directory user id stored under this customer's directory.
func TestOutcomeRejectedForeignDirectoryUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.addPlan(t, "evil", "plan_evil", "org_EVIL")
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEventFor("directory_EVIL", "org_EVIL", "created", "u_eve", "eve@evil.test", "active", 1))
		before := w.dirUser(t, "u_alice")
		auditBefore := len(w.audit(t, testPlan))

		steal := userEventFor("directory_EVIL", "org_EVIL", "updated", "u_alice", "mallory@evil.test", "active", 5)
		off := userEventFor("directory_EVIL", "org_EVIL", "deleted", "u_alice", "alice@acme.test", "active", 6)
		w.step(t, steal, off)
		for _, id := range []string{steal.EventID, off.EventID} {
			w.wantOutcome(t, id, membership.OutcomeRejected, "directory user u_alice belongs to directory "+testDir)
		}
		if after := w.dirUser(t, "u_alice"); *after != *before {
			t.Errorf("alice's directory user changed: %+v → %+v", before, after)
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s, want her seat", got)
		}
		if _, ok := w.memberIn(t, "evil", "mallory@evil.test"); ok {
			t.Error("rejected event created a member")
		}
		if n := len(w.audit(t, testPlan)); n != auditBefore {
			t.Errorf("acme audit entries %d → %d after rejected events", auditBefore, n)
		}
	})
}

// TestOutcomeUnmatched: an event for a WorkOS organization no plan has waits,
// becomes unmatched after UnmatchedAfter, and applies once a plan appears.
func TestOutcomeUnmatched(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		ctx := t.Context()
		ev := userEventFor("directory_GLOBEX", "org_GLOBEX", "created", "u_gina", "gina@globex.test", "active", 1)
		start := time.Now()
		w.step(t, ev)
		r := w.wantOutcome(t, ev.EventID, membership.OutcomePending, "waiting for a plan linked to WorkOS organization org_GLOBEX")
		if r.Attempts != 1 || !r.NextAttemptAt.After(start) || r.ProcessedAt != nil {
			t.Errorf("waiting event: attempts %d, next attempt %v (start %v), processed %v", r.Attempts, r.NextAttemptAt, start, r.ProcessedAt)
		}
		if did, err := w.app.ApplyNext(ctx); err != nil || did {
			t.Fatalf("ApplyNext = %v, %v; a waiting event is not due before its next attempt", did, err)
		}
		if d := w.directory(t, "directory_GLOBEX"); d != nil {
			t.Errorf("waiting event linked a directory: %+v", d)
		}

		// Its time runs out: make it due without waiting for its backoff, and let
		// an applier whose UnmatchedAfter has passed take it.
		if err := w.st.WakeWaiting(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		impatient := w.applierWith(applier.Options{UnmatchedAfter: time.Nanosecond})
		if err := impatient.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		r = w.wantOutcome(t, ev.EventID, membership.OutcomeUnmatched, "waiting for a plan")
		if r.Attempts != 2 || r.ProcessedAt == nil {
			t.Errorf("unmatched event: attempts %d, processed %v", r.Attempts, r.ProcessedAt)
		}
		if did, err := w.app.ApplyNext(ctx); err != nil || did {
			t.Fatalf("ApplyNext = %v, %v; an unmatched event is not retried by itself", did, err)
		}

		// The billing system creates the plan: the event wakes up and applies.
		w.addPlan(t, "globex", "plan_globex", "org_GLOBEX")
		w.wantOutcome(t, ev.EventID, membership.OutcomePending, "waiting")
		w.drain(t)
		r = w.wantOutcome(t, ev.EventID, membership.OutcomeApplied, "")
		if r.PlanID != "plan_globex" {
			t.Errorf("applied to plan %q, want plan_globex", r.PlanID)
		}
		m, ok := w.memberIn(t, "globex", "gina@globex.test")
		if !ok || m.PlanID != "plan_globex" || m.Source != membership.SourceDirectory {
			t.Errorf("gina = %+v (%v), want a directory seat on plan_globex", m, ok)
		}
		if p, _ := w.st.Plan(ctx, "plan_globex"); p.Mode != "test" {
			t.Errorf("plan_globex mode %s, want test", p.Mode)
		}
	})
}

func TestOutcomeConflict(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1))
		alice := w.dirUser(t, "u_alice")
		ev := userEvent("updated", "u_alice", "bob@acme.test", "active", 2)
		w.step(t, ev)
		w.wantOutcome(t, ev.EventID, membership.OutcomeConflict, "belongs to another")
		if got := w.dirUser(t, "u_alice"); *got != *alice {
			t.Errorf("alice's directory user changed by a conflict: %+v → %+v", alice, got)
		}
		for _, e := range []string{"alice@acme.test", "bob@acme.test"} {
			if got := w.seat(t, e); got != testPlan+"/directory" {
				t.Errorf("%s = %s after a conflict, want unchanged", e, got)
			}
		}
		if m, _ := w.member(t, "bob@acme.test"); m.DirectoryUserID != "u_bob" {
			t.Errorf("bob linked to %q, want u_bob", m.DirectoryUserID)
		}
		c := w.auditFor(t, testPlan, membership.ActionConflict, "bob@acme.test")
		if len(c) != 1 || c[0].EventID != ev.EventID {
			t.Errorf("conflict audit = %+v, want one entry for the event", c)
		}
	})
}

// TestOutcomeFailedInvalidPayload: payloads that cannot be decoded are parked
// as failed at once, and never hold up the events behind them.
func TestOutcomeFailedInvalidPayload(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		bad := []membership.InboxEvent{
			rawEvent("event_bad_json", "dsync.user.created", `{"id":"event_bad_json","event":"dsync.user.created","data":{"id":`),
			rawEvent("event_bad_data", "dsync.user.updated", `{"id":"event_bad_data","event":"dsync.user.updated","data":"oops","created_at":"2026-03-01T12:00:00Z"}`),
			rawEvent("event_bad_type", "dsync.group.user_added", `{"id":"event_bad_type","event":"dsync.group.user_added","data":{"user":{"id":7}},"created_at":"2026-03-01T12:00:00Z"}`),
			rawEvent("event_bad_dir", "dsync.activated", `{"id":"event_bad_dir","event":"dsync.activated","data":{"object":"directory"},"created_at":"2026-03-01T12:00:00Z"}`),
			rawEvent("event_bad_time", "dsync.user.created", `{"id":"event_bad_time","event":"dsync.user.created","data":{"id":"u_x","directory_id":"`+testDir+`","organization_id":"`+workosOrg+`","email":"x@acme.test","state":"active","updated_at":"yesterday"},"created_at":"2026-03-01T12:00:00Z"}`),
		}
		good := []membership.InboxEvent{
			userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1),
		}
		w.put(t, bad...)
		w.put(t, good...)
		w.drain(t)
		for _, ev := range bad {
			r := w.wantOutcome(t, ev.EventID, membership.OutcomeFailed, "failed")
			if r.Attempts != 1 || r.LastError == "" || r.ProcessedAt == nil {
				t.Errorf("%s: attempts %d, last error %q, processed %v; want parked at once with its error", ev.EventID, r.Attempts, r.LastError, r.ProcessedAt)
			}
			if !strings.Contains(r.LastError, "decode") && !strings.Contains(r.LastError, "without id") && !strings.Contains(r.LastError, "updated_at") {
				t.Errorf("%s: last error %q does not say what is wrong", ev.EventID, r.LastError)
			}
		}
		for _, ev := range good {
			w.wantOutcome(t, ev.EventID, membership.OutcomeApplied, "")
		}
		if got := w.seats(t); got["alice@acme.test"] != testPlan+"/directory" || got["bob@acme.test"] != testPlan+"/directory" || len(got) != 2 {
			t.Errorf("seats = %v, want alice and bob", got)
		}
		counts, err := w.st.InboxCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if counts["pending"] != 0 || counts["failed"] != int64(len(bad)) {
			t.Errorf("inbox counts = %v", counts)
		}
	})
}
