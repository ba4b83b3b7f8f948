package events_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"  // database/sql driver "sqlite", for failAt
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for failAt

	"github.com/seatsync/seatsync/pkg/events"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// clock is a settable time shared by the fake WorkOS and the poller.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// bundle is a store, a fake WorkOS with its client, and a clock.
type bundle struct {
	st      *store.Store
	opts    store.Options
	dialect string
	fake    *workostest.Server
	api     *workosapi.Client
	clock   *clock
	kicks   atomic.Int64
}

func setup(t *testing.T, dialect string, fakeOpts ...workostest.Option) *bundle {
	t.Helper()
	b := &bundle{opts: storetest.Options(t, dialect), dialect: dialect,
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	b.st = storetest.OpenWith(t, b.opts)
	b.fake = workostest.New(t, append([]workostest.Option{workostest.WithNow(b.clock.Now)}, fakeOpts...)...)
	api, err := workosapi.New(workosapi.Options{APIKey: b.fake.APIKey, Endpoint: b.fake.URL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	b.api = api
	return b
}

// poller returns a Poller over the bundle; zero options get test defaults.
func (b *bundle) poller(o events.Options) *events.Poller {
	if o.Holder == "" {
		o.Holder = "replica-a"
	}
	if o.Now == nil {
		o.Now = b.clock.Now
	}
	if o.Kick == nil {
		o.Kick = func() { b.kicks.Add(1) }
	}
	return events.New(b.st, b.api, o)
}

// emit adds n dsync.user.created events to the fake, a second apart and
// ending `ago` before now; it returns their ids oldest first.
func (b *bundle) emit(n int, ago time.Duration) []string {
	start := b.clock.Now().Add(-ago - time.Duration(n)*time.Second)
	ids := make([]string, n)
	for i := range ids {
		id := fmt.Sprintf("directory_user_%d_%d", start.Unix(), i)
		ids[i] = b.fake.Emit("dsync.user.created", start.Add(time.Duration(i)*time.Second), map[string]any{
			"object": "directory_user", "id": id, "directory_id": "directory_1", "organization_id": "org_1",
			"email": id + "@example.test", "state": "active", "created_at": start.Format(time.RFC3339Nano),
			"updated_at": start.Format(time.RFC3339Nano)})
	}
	return ids
}

func (b *bundle) cursor(t *testing.T) string {
	t.Helper()
	c, err := b.st.EventCursor(t.Context(), events.CursorName)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inboxIDs returns the event ids in the inbox.
func (b *bundle) inboxIDs(t *testing.T) []string {
	t.Helper()
	db := b.sqlDB(t)
	rows, err := db.QueryContext(t.Context(), "SELECT event_id FROM inbox_events ORDER BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// sqlDB is a second connection to the bundle's database, for what the store
// does not offer.
func (b *bundle) sqlDB(t *testing.T) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", b.opts.URL
	if b.dialect == "sqlite" {
		driver, dsn = "sqlite", b.opts.Path+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// failAt makes the database refuse to insert eventID into the inbox until the
// returned function is called: a failure in the middle of a page's transaction.
func (b *bundle) failAt(t *testing.T, eventID string) (heal func()) {
	t.Helper()
	db := b.sqlDB(t)
	ctx := context.WithoutCancel(t.Context())
	create := []string{fmt.Sprintf(`CREATE TRIGGER fail_event BEFORE INSERT ON inbox_events
		WHEN (NEW.event_id = '%s') BEGIN SELECT RAISE(ABORT, 'injected failure'); END`, eventID)}
	drop := "DROP TRIGGER fail_event"
	if b.dialect == "postgres" {
		create = []string{`CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			fmt.Sprintf(`CREATE TRIGGER fail_event BEFORE INSERT ON inbox_events FOR EACH ROW
			WHEN (NEW.event_id = '%s') EXECUTE FUNCTION fail_event()`, eventID)}
		drop = "DROP TRIGGER fail_event ON inbox_events"
	}
	for _, q := range create {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return func() {
		t.Helper()
		if _, err := db.ExecContext(ctx, drop); err != nil {
			t.Fatalf("%s: %v", drop, err)
		}
	}
}

func sorted(ids []string) []string { return slices.Sorted(slices.Values(ids)) }
