package store_test

// Scale benchmarks (item 4 of the performance issue): the cutover downgrade,
// the plan status and the first members page at 10,000, 100,000 and
// 1,000,000 members, on Postgres. They run only with -bench (make
// bench-scale); docs/PERFORMANCE.md has the results and the targets.
// BenchmarkBaselinePing is the yardstick the others are read against: one
// database round trip, on the same machine in the same run.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

var scaleBig = flag.Bool("scale.big", false,
	"also run BenchmarkDowngrade at 1,000,000 members (slow to load); SEATSYNC_BENCH_BIG=1 does the same")

const (
	scaleOrg    = "org_scale"
	scalePlan   = "plan_scale"
	scaleDir    = "directory_scale"
	scaleWorkOS = "org_SCALE"
)

// scaleShape is what a fixture holds besides its one organization, plan (in
// directory mode) and directory.
type scaleShape struct {
	members   int  // members of the organization, each with a directory user
	freeEvery int  // every freeEvery-th member is free (0: all paid)
	inAEvery  int  // every inAEvery-th directory user is in A (0: exactly the paid ones)
	inbox     bool // one applied event per member, 100 pending and 10 failed ones
}

// load fills the migrated database at dbURL with set-based SQL: the rows of sh,
// the seat counters consistent with them, then VACUUM ANALYZE, the steady
// state autovacuum leaves a table in. Member i has the email
// u<i, 8 digits>@scale.test, so rows are stored in email order.
func load(b *testing.B, dbURL string, sh scaleShape) {
	b.Helper()
	start := time.Now()
	ctx := b.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	free := "false"
	if sh.freeEvery > 0 {
		free = fmt.Sprintf("i %% %d = 0", sh.freeEvery)
	}
	inA := "NOT (" + free + ")"
	if sh.inAEvery > 0 {
		inA = fmt.Sprintf("i %% %d = 0", sh.inAEvery)
	}
	const (
		num    = "lpad(i::text, 8, '0')"
		email  = "'u' || " + num + " || '@scale.test'"
		userID = "'directory_user_' || " + num
	)
	stmts := []string{
		`INSERT INTO organizations (id, name, domains, created_at, updated_at)
			VALUES ('` + scaleOrg + `', 'Scale', '["scale.test"]', now(), now())`,
		`INSERT INTO plans (id, organization_id, name, workos_organization_id, scoping_groups, mode, cutover_at, created_at, updated_at)
			VALUES ('` + scalePlan + `', '` + scaleOrg + `', 'Scale', '` + scaleWorkOS + `', '[]', 'directory', now(), now(), now())`,
		`INSERT INTO plan_admins (plan_id, email) VALUES ('` + scalePlan + `', 'admin@scale.test')`,
		fmt.Sprintf(`INSERT INTO directories (id, plan_id, organization_id, type, name, state, domains, users_added,
				last_event_at, created_at, updated_at)
			VALUES ('`+scaleDir+`', '`+scalePlan+`', '`+scaleWorkOS+`', 'okta scim v2.0', 'Scale', 'active', '[]', %d,
				now(), now(), now())`, sh.members),
		fmt.Sprintf(`INSERT INTO directory_users (id, directory_id, organization_id, email, first_name, last_name, state,
				deleted, in_a, added, version_updated_at, version_created_at, version_event_id, created_at, updated_at)
			SELECT %s, '`+scaleDir+`', '`+scaleWorkOS+`', %s, 'First', 'Last ' || i, 'active',
				false, %s, true, now(), now(), 'event_' || %s, now(), now()
			FROM generate_series(1, %d) i`, userID, email, inA, num, sh.members),
		fmt.Sprintf(`INSERT INTO members (organization_id, email, name, plan_id, source, directory_user_id, created_at, updated_at)
			SELECT '`+scaleOrg+`', %s, 'First Last ' || i,
				CASE WHEN %s THEN NULL ELSE '`+scalePlan+`' END, CASE WHEN %s THEN '' ELSE 'directory' END,
				%s, now(), now()
			FROM generate_series(1, %d) i`, email, free, free, userID, sh.members),
		`UPDATE plans SET paid_count = (SELECT COUNT(*) FROM members WHERE members.plan_id = plans.id)`,
		`UPDATE organizations SET free_count = (SELECT COUNT(*) FROM members
			WHERE members.organization_id = organizations.id AND members.plan_id IS NULL)`,
		`UPDATE directories SET active_users = (SELECT COUNT(*) FROM directory_users
			WHERE directory_users.directory_id = directories.id AND directory_users.in_a)`,
	}
	if sh.inbox {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO inbox_events (event_id, event_type, source, payload, event_created_at,
				received_at, status, next_attempt_at, directory_id, plan_id, processed_at)
			SELECT 'event_' || %s, 'dsync.user.created', 'webhook', '\x7b7d'::bytea, now(), now(),
				CASE WHEN i <= 10 THEN 'failed' WHEN i <= 110 THEN 'pending' ELSE 'applied' END,
				now(), '`+scaleDir+`', '`+scalePlan+`', CASE WHEN i BETWEEN 11 AND 110 THEN NULL ELSE now() END
			FROM generate_series(1, %d) i`, num, sh.members))
	}
	for _, q := range append(stmts, "VACUUM ANALYZE") {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatalf("load %d members: %v\n%s", sh.members, err, q)
		}
	}
	b.Logf("loaded %d members in %s", sh.members, time.Since(start).Round(time.Millisecond))
}

// scaleStore returns a migrated store on a fresh Postgres database loaded
// with sh, and the database's URL; the database is dropped when b ends.
func scaleStore(b *testing.B, sh scaleShape) (*store.Store, string) {
	b.Helper()
	opts := storetest.Options(b, "postgres")
	st := storetest.OpenWith(b, opts)
	load(b, opts.URL, sh)
	return st, opts.URL
}

// readFixtures are the databases of the read-only benchmarks, loaded once
// per size and shared by BenchmarkPlanStatus, BenchmarkMembersFirstPage and
// every -count round (loading a million members takes minutes); TestMain
// drops them.
var readFixtures = struct {
	sync.Mutex
	byMembers map[int]*store.Store
	drops     []func()
}{byMembers: map[int]*store.Store{}}

func TestMain(m *testing.M) {
	code := m.Run()
	readFixtures.Lock()
	for _, drop := range readFixtures.drops {
		drop()
	}
	readFixtures.Unlock()
	os.Exit(code)
}

// readShape is the plan the read benchmarks look at: n members, one in ten
// free, the paid ones in A, and an inbox of one event per member.
func readShape(n int) scaleShape { return scaleShape{members: n, freeEvery: 10, inbox: true} }

// readStore returns the shared store of readShape(n), loading it first.
func readStore(b *testing.B, n int) *store.Store {
	b.Helper()
	readFixtures.Lock()
	defer readFixtures.Unlock()
	if st := readFixtures.byMembers[n]; st != nil {
		return st
	}
	admin := storetest.AdminURL(b)
	if want := os.Getenv("TEST_DATABASE_URL"); admin != want && admin != storetest.DefaultURL {
		// A throwaway cluster lives only as long as b: nothing to share.
		st, _ := scaleStore(b, readShape(n))
		return st
	}
	name := "seatsync_test_scale_" + randomHex(6)
	u, err := url.Parse(admin)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{Driver: "postgres", URL: u.String(), MaxOpenConns: 20})
	if err != nil {
		_ = adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		b.Fatal(err)
	}
	readFixtures.drops = append(readFixtures.drops, func() {
		_ = st.Close()
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop benchmark database %s: %v\n", name, err)
		}
	})
	if err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	load(b, u.String(), readShape(n))
	readFixtures.byMembers[n] = st
	return st
}

func adminExec(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	p := make([]byte, n)
	_, _ = rand.Read(p)
	return hex.EncodeToString(p)
}

// vacuum clears the dead rows a rolled-back iteration left, so that every
// iteration finds the same tables; callers stop the timer around it.
func vacuum(b *testing.B, dbURL, tables string) {
	b.Helper()
	conn, err := pgx.Connect(b.Context(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(b.Context(), "VACUUM ANALYZE "+tables); err != nil {
		b.Fatal(err)
	}
}

var readSizes = []int{10_000, 100_000, 1_000_000}

// BenchmarkBaselinePing is one round trip to the database through the
// store's pool: the unit the other benchmarks are read in.
func BenchmarkBaselinePing(b *testing.B) {
	st := storetest.Open(b, "postgres")
	ctx := b.Context()
	for b.Loop() {
		if err := st.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

var errRollback = errors.New("roll back")

// BenchmarkDowngrade is the cutover downgrade of a plan in directory mode
// whose N members all hold a paid seat and half of whose directory users are
// in A: one statement moves N/2 members to free and audits each, and the
// counters follow. Each iteration rolls its transaction back and the dead rows
// are vacuumed outside the timer, so every iteration does the same work.
// 1,000,000 members only with -scale.big or SEATSYNC_BENCH_BIG=1.
func BenchmarkDowngrade(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if *scaleBig || os.Getenv("SEATSYNC_BENCH_BIG") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			st, dbURL := scaleStore(b, scaleShape{members: n, inAEvery: 2})
			ctx := b.Context()
			at := time.Now()
			for b.Loop() {
				var moved int64
				err := st.Tx(ctx, func(tx *store.Store) error {
					var err error
					if moved, err = tx.Downgrade(ctx, scalePlan, at, "event_scale", "benchmark"); err != nil {
						return err
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					b.Fatalf("downgrade: %v", err)
				}
				if moved != int64(n/2) {
					b.Fatalf("moved %d members, want %d", moved, n/2)
				}
				b.StopTimer()
				vacuum(b, dbURL, "members, audit_entries, plans, organizations")
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPlanStatus reads what GET /api/v1/plans/{id} reads from the store
// (pkg/server loadStatus): the plan, its directories with each one's active
// users, the seat counters, the event counts, the reconciliations and the
// held changes. activeusers-ns/op is the part of it ActiveUsers took.
func BenchmarkPlanStatus(b *testing.B) {
	for _, n := range readSizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			st := readStore(b, n)
			ctx := b.Context()
			wantPaid, wantFree := int64(n-n/10), int64(n/10)
			var counting time.Duration
			for b.Loop() {
				plan, err := st.Plan(ctx, scalePlan)
				if err != nil {
					b.Fatal(err)
				}
				dirs, err := st.PlanDirectories(ctx, scalePlan)
				if err != nil || len(dirs) != 1 {
					b.Fatalf("directories: %v, %v", dirs, err)
				}
				t0 := time.Now()
				active, err := st.ActiveUsers(ctx, dirs[0].ID)
				counting += time.Since(t0)
				if err != nil || active != wantPaid {
					b.Fatalf("active users = %d, %v; want %d", active, err, wantPaid)
				}
				paid, free, err := st.SeatCounts(ctx, scalePlan, plan.OrganizationID)
				if err != nil || paid != wantPaid || free != wantFree {
					b.Fatalf("seats = %d paid, %d free, %v; want %d and %d", paid, free, err, wantPaid, wantFree)
				}
				pending, failed, err := st.PlanEventCounts(ctx, scalePlan)
				if err != nil || pending != 100 || failed != 10 {
					b.Fatalf("events = %d pending, %d failed, %v; want 100 and 10", pending, failed, err)
				}
				if _, err := st.PlanReconciliations(ctx, scalePlan); err != nil {
					b.Fatal(err)
				}
				if _, err := st.HeldChanges(ctx, scalePlan); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(counting.Nanoseconds())/float64(b.N), "activeusers-ns/op")
		})
	}
}

// BenchmarkMembersFirstPage reads what GET /api/v1/plans/{id}/members reads
// from the store for a first page of 100: the plan, then PlanMembers of every
// member (tier=all), of the paid seats or of the free members.
func BenchmarkMembersFirstPage(b *testing.B) {
	for _, n := range readSizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			st := readStore(b, n)
			for _, tier := range []string{"", "paid", "free"} {
				name := tier
				if name == "" {
					name = "all"
				}
				b.Run("tier="+name, func(b *testing.B) {
					ctx := b.Context()
					for b.Loop() {
						plan, err := st.Plan(ctx, scalePlan)
						if err != nil {
							b.Fatal(err)
						}
						page, err := st.PlanMembers(ctx, plan.ID, plan.OrganizationID, tier, "", 100)
						if err != nil || len(page.Members) != 100 || page.After == "" {
							b.Fatalf("page: %d members, after %q, %v; want 100 and a cursor", len(page.Members), page.After, err)
						}
					}
				})
			}
		})
	}
}
