// Package applier claims pending inbox events and applies them: a store
// transaction around the seat rules of package membership.
package applier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// Options tunes an Applier.
type Options struct {
	Rules          store.Rules
	Workers        int
	MaxAttempts    int           // failures before an event is parked as failed
	UnmatchedAfter time.Duration // how long an event waits for its plan before it is unmatched
	Poll           time.Duration // idle wait between inbox polls
	BatchSize      int           // events claimed and committed together
	Now            func() time.Time
	Log            *slog.Logger
	// Guard holds changes that would revoke too many seats at once; zero disables it.
	Guard membership.Guard
	// BeforeDowngrade runs before a scheduled cutover downgrade (reconciliation hook).
	BeforeDowngrade func(ctx context.Context, planID string) error
	// Observer hears of outcomes, retries and batches, for metrics; nil means nobody.
	Observer Observer
}

// Observer is told what the applier did; *metrics.Metrics implements it.
// Calls must not block.
type Observer interface {
	// EventApplied reports an event's final outcome and its time since it
	// was received.
	EventApplied(eventType, outcome string, lag time.Duration)
	// EventRetried reports a failed attempt that will be tried again.
	EventRetried(eventType string)
	// ApplyBatch reports how many events one transaction committed.
	ApplyBatch(size int)
}

type nopObserver struct{}

func (nopObserver) EventApplied(string, string, time.Duration) {}
func (nopObserver) EventRetried(string)                        {}
func (nopObserver) ApplyBatch(int)                             {}

// Applier applies inbox events.
type Applier struct {
	st   *store.Store
	opts Options
	kick chan struct{}
}

// New returns an Applier over st.
func New(st *store.Store, opts Options) *Applier {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.MaxAttempts < 1 {
		opts.MaxAttempts = 10
	}
	if opts.BatchSize < 1 {
		opts.BatchSize = 100
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if st.Dialect() == "sqlite" {
		opts.Workers = 1 // one writer: more workers would only queue on the connection
	}
	return &Applier{st: st, opts: opts, kick: make(chan struct{}, 1)}
}

// Kick wakes an idle worker: an event was just stored.
func (a *Applier) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run applies events until ctx ends, then lets in-flight transactions finish.
func (a *Applier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range a.opts.Workers {
		wg.Go(func() { a.work(ctx) })
	}
	wg.Go(func() { a.schedule(ctx) })
	wg.Wait()
}

func (a *Applier) work(ctx context.Context) {
	backoff := a.opts.Poll
	for ctx.Err() == nil {
		// Finish the claimed event even when shutdown starts mid-transaction.
		did, err := a.ApplyNext(context.WithoutCancel(ctx))
		switch {
		case err != nil && store.IsTxConflict(err):
			// A batch locks organizations in the order of its events, so two
			// overlapping batches can deadlock; Postgres rolls one back, and
			// it goes again after a short pause instead of a back-off.
			a.opts.Log.Debug("applier: batch rolled back by a deadlock; retrying", "err", err)
			backoff = a.opts.Poll / 8
		case err != nil:
			a.opts.Log.Warn("applier: inbox unavailable", "err", err)
			backoff = min(backoff*2, 10*time.Second)
		case did:
			backoff = a.opts.Poll
			continue
		default:
			backoff = a.opts.Poll
		}
		select {
		case <-ctx.Done():
		case <-a.kick:
		case <-time.After(jitter(backoff)):
		}
	}
}

func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

// Drain applies events until none is due; tests and `seatsync` commands use it.
func (a *Applier) Drain(ctx context.Context) error {
	for {
		did, err := a.ApplyNext(ctx)
		if err != nil && store.IsTxConflict(err) && ctx.Err() == nil {
			continue // a deadlock's victim: the batch rolled back, run it again
		}
		if err != nil || !did {
			return err
		}
	}
}

// errWaiting means the event cannot be linked to a plan yet (SPEC §4.1).
type errWaiting struct{ reason string }

func (e *errWaiting) Error() string { return e.reason }

// result is what applying one event decided.
type result struct {
	outcome membership.Outcome
	reason  string
	planID  string
	dirID   string
}

// ApplyNext claims up to Options.BatchSize due events and applies them in one
// transaction, so the commit's cost is shared (SPEC §2: a crash still loses
// nothing, the claimed events simply stay pending). It reports whether any
// event was claimed. Runs of user events take the batched path; every other
// event, and any run the batched path cannot finish, is applied one by one in
// its own savepoint, so one poisoned event never fails the others.
func (a *Applier) ApplyNext(ctx context.Context) (bool, error) {
	var (
		evs  []store.InboxRow
		done []store.Finished
		wall time.Time
	)
	err := a.st.Tx(ctx, func(tx *store.Store) error {
		// Inbox scheduling runs on the wall clock, like received_at; the rules'
		// clock (opts.Now) stamps what the events change.
		wall = time.Now().UTC()
		var err error
		evs, err = tx.ClaimPendingBatch(ctx, wall, a.opts.BatchSize)
		if err != nil || len(evs) == 0 {
			return err
		}
		users := decodeUsers(evs)
		if err := a.lockBatchOrganizations(ctx, tx, evs, users); err != nil {
			return err
		}
		now := a.opts.Now().UTC()
		for i := 0; i < len(evs); {
			j := i
			for j < len(evs) && isUserEvent(evs[j].EventType) {
				j++
			}
			if j > i {
				fin, err := a.applyUserRun(ctx, tx, evs[i:j], users, now, wall)
				if err != nil {
					return err
				}
				done, i = append(done, fin...), j
				continue
			}
			fin, err := a.applyOne(ctx, tx, &evs[i], now, wall)
			if err != nil {
				return err
			}
			if fin != nil {
				done = append(done, *fin)
			}
			i++
		}
		return tx.FinishBatch(ctx, done, wall)
	})
	if err == nil && len(evs) > 0 {
		a.report(evs, done, wall)
	}
	return len(evs) > 0, err
}

// report tells the log and the observer what a committed batch did: only
// after the commit, since a rolled-back batch stays pending and is applied again.
func (a *Applier) report(evs []store.InboxRow, done []store.Finished, wall time.Time) {
	a.opts.Observer.ApplyBatch(len(evs))
	byID := make(map[int64]*store.InboxRow, len(evs))
	for i := range evs {
		byID[evs[i].ID] = &evs[i]
	}
	for _, f := range done {
		ev := byID[f.ID]
		if ev == nil {
			continue
		}
		a.opts.Observer.EventApplied(ev.EventType, string(f.Outcome), wall.Sub(ev.ReceivedAt))
		a.opts.Log.Debug("event applied", "event_id", ev.EventID, "event_type", ev.EventType,
			"outcome", f.Outcome, "plan_id", f.PlanID, "directory_id", f.DirID)
	}
}

func isUserEvent(t string) bool {
	return t == "dsync.user.created" || t == "dsync.user.updated" || t == "dsync.user.deleted"
}

// applyOne applies one event in its own savepoint. It returns the outcome to
// record, or nil when the failure was recorded instead.
func (a *Applier) applyOne(ctx context.Context, tx *store.Store, ev *store.InboxRow, now, wall time.Time) (*store.Finished, error) {
	var res result
	herr := tx.Tx(ctx, func(tx *store.Store) error {
		var err error
		res, err = a.handle(ctx, tx, ev, now)
		return err
	})
	if herr == nil {
		return &store.Finished{ID: ev.ID, Outcome: res.outcome, Reason: res.reason, PlanID: res.planID, DirID: res.dirID}, nil
	}
	if store.IsUnavailable(herr) || store.IsTxConflict(herr) {
		// Nothing to record: the database itself is gone, or it picked this
		// transaction as a deadlock's victim. The batch rolls back (releasing
		// its locks) and is tried again; the event is not at fault.
		return nil, herr
	}
	return nil, a.failed(ctx, tx, ev, herr, wall)
}

func (a *Applier) failed(ctx context.Context, tx *store.Store, ev *store.InboxRow, herr error, now time.Time) error {
	attempts := ev.Attempts + 1
	var w *errWaiting
	if errors.As(herr, &w) {
		if now.Sub(ev.ReceivedAt) >= a.opts.UnmatchedAfter {
			a.opts.Log.Info("event unmatched", a.eventAttrs(ctx, tx, ev)...)
			a.parked(ev, membership.OutcomeUnmatched, now)
			return tx.Park(ctx, ev.ID, membership.OutcomeUnmatched, attempts, w.reason, "", now)
		}
		return tx.Postpone(ctx, ev.ID, attempts, now.Add(retryDelay(attempts, time.Minute)), w.reason, "")
	}
	if membership.ErrorKind(herr) == membership.Invalid || attempts >= a.opts.MaxAttempts {
		// A payload that cannot be decoded will not decode next time either.
		a.opts.Log.Error("event failed", append(a.eventAttrs(ctx, tx, ev), "err", herr)...)
		a.parked(ev, membership.OutcomeFailed, now)
		return tx.Park(ctx, ev.ID, membership.OutcomeFailed, attempts, "failed", herr.Error(), now)
	}
	a.opts.Log.Warn("event will be retried", append(a.eventAttrs(ctx, tx, ev), "attempt", attempts, "err", herr)...)
	a.opts.Observer.EventRetried(ev.EventType)
	return tx.Postpone(ctx, ev.ID, attempts, now.Add(retryDelay(attempts, 5*time.Minute)), "retrying", herr.Error())
}

// parked reports an event parked as failed or unmatched. Unlike report, which
// runs after the commit, it runs inside the transaction: should the batch roll
// back later (the database lost), the event is parked again and counted twice,
// which errs on the side of the failure alert.
func (a *Applier) parked(ev *store.InboxRow, o membership.Outcome, now time.Time) {
	a.opts.Observer.EventApplied(ev.EventType, string(o), now.Sub(ev.ReceivedAt))
}

// retryDelay doubles from two seconds (after the first attempt) up to ceiling.
func retryDelay(attempts int, ceiling time.Duration) time.Duration {
	d := time.Second << min(attempts, 20)
	return min(d, ceiling)
}

func (a *Applier) handle(ctx context.Context, tx *store.Store, ev *store.InboxRow, now time.Time) (result, error) {
	var env envelope
	if err := decode(ev.Payload, &env, "envelope"); err != nil {
		return result{}, err
	}
	switch ev.EventType {
	case "dsync.user.created", "dsync.user.updated", "dsync.user.deleted":
		return a.applyUserEvent(ctx, tx, env, now)
	case "dsync.activated", "dsync.deactivated", "dsync.deleted":
		return a.applyDirectoryEvent(ctx, tx, env, now)
	case "dsync.group.created", "dsync.group.updated", "dsync.group.deleted":
		return a.applyGroupEvent(ctx, tx, env, now)
	case "dsync.group.user_added", "dsync.group.user_removed":
		return a.applyMembershipEvent(ctx, tx, env, now)
	}
	return result{outcome: membership.OutcomeIgnored, reason: "event type not handled"}, nil
}

func waiting(orgID string) error {
	return &errWaiting{reason: fmt.Sprintf("waiting for a plan linked to WorkOS organization %s", orgID)}
}
