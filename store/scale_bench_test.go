package store_test

// Scale benchmarks (item 4 of the performance issue): the cutover downgrade,
// the plan status and the first members page, each at 10,000, 100,000 and
// 1,000,000 members on a fresh Postgres database per size. They run only with
// -bench (make bench-scale); docs/PERFORMANCE.md has the results and the
// targets. BenchmarkBaselinePing is the yardstick the others are read against:
// one database round trip on the same machine in the same run.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
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

// scaleShape is what a fixture holds besides the one organization, plan and
// directory.
type scaleShape struct {
	members   int // members of the organization, each with a directory user
	freeEvery int // every freeEvery-th member is free (0: all paid)
	inAEvery  int // every inAEvery-th directory user is in A (and every paid one when 0)
	inbox     bool
}

// scaleStore returns a migrated store, and its URL, on a fresh Postgres database holding a
// plan in directory mode shaped as sh, loaded with set-based SQL, the seat
// counters consistent, then VACUUM ANALYZE: the steady state autovacuum
// leaves a table in. Emails are random-looking, so heap order and email
// order are unrelated, as in a database filled by events.
func scaleStore(b *testing.B, sh scaleShape) (st *store.Store, url string) {
	b.Helper()
	start := time.Now()
	opts := storetest.Options(b, "postgres")
	st = storetest.OpenWith(b, opts)
	ctx := b.Context()
	conn, err := pgx.Connect(ctx, opts.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())

	// Member i: email u<md5 prefix>.<i>@scale.test; free when i % freeEvery = 0.
	free := "false"
	if sh.freeEvery > 0 {
		free = fmt.Sprintf("i %% %d = 0", sh.freeEvery)
	}
	inA := "NOT (" + free + ")"
	if sh.inAEvery > 0 {
		inA = fmt.Sprintf("i %% %d = 0", sh.inAEvery)
	}
	email := "'u' || left(md5(i::text), 10) || '.' || i || '@scale.test'"
	userID := "'directory_user_' || lpad(i::text, 8, '0')"
	stmts := []string{
		`INSERT INTO organizations (id, name, domains, created_at, updated_at)
			VALUES ('` + scaleOrg + `', 'Scale', '["scale.test"]', now(), now())`,
		`INSERT INTO plans (id, organization_id, name, workos_organization_id, scoping_groups, mode, cutover_at, created_at, updated_at)
			VALUES ('` + scalePlan + `', '` + scaleOrg + `', 'Scale', '` + scaleWorkOS + `', '[]', 'directory', now(), now(), now())`,
		`INSERT INTO plan_admins (plan_id, email) VALUES ('` + scalePlan + `', 'admin@scale.test')`,
		fmt.Sprintf(`INSERT INTO directories (id, plan_id, organization_id, type, name, state, domains, users_added, last_event_at, created_at, updated_at)
			VALUES ('`+scaleDir+`', '`+scalePlan+`', '`+scaleWorkOS+`', 'okta scim v2.0', 'Scale', 'active', '[]', %d, now(), now(), now())`, sh.members),
		fmt.Sprintf(`INSERT INTO directory_users (id, directory_id, organization_id, email, first_name, last_name, state,
				deleted, in_a, added, version_updated_at, version_created_at, version_event_id, created_at, updated_at)
			SELECT %s, '`+scaleDir+`', '`+scaleWorkOS+`', %s, 'First', 'Last ' || i, 'active',
				false, %s, true, now(), now(), 'event_' || i, now(), now()
			FROM generate_series(1, %d) i`, userID, email, inA, sh.members),
		fmt.Sprintf(`INSERT INTO members (organization_id, email, name, plan_id, source, directory_user_id, created_at, updated_at)
			SELECT '`+scaleOrg+`', %s, 'First Last ' || i,
				CASE WHEN %s THEN NULL ELSE '`+scalePlan+`' END,
				CASE WHEN %s THEN '' ELSE 'directory' END,
				%s, now(), now()
			FROM generate_series(1, %d) i`, email, free, free, userID, sh.members),
		`UPDATE plans SET paid_count = (SELECT COUNT(*) FROM members WHERE plan_id = plans.id)`,
		`UPDATE organizations SET free_count = (SELECT COUNT(*) FROM members
			WHERE members.organization_id = organizations.id AND plan_id IS NULL)`,
	}
	if sh.inbox {
		// One applied event per user, as an initial sync leaves the inbox,
		// plus 100 pending events and 10 failed ones of the plan.
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO inbox_events (event_id, event_type, source, payload, event_created_at,
				received_at, status, next_attempt_at, directory_id, plan_id, processed_at)
			SELECT 'event_' || i, 'dsync.user.created', 'webhook', '\x7b7d'::bytea, now(), now(),
				CASE WHEN i <= 10 THEN 'failed' WHEN i <= 110 THEN 'pending' ELSE 'applied' END,
				now(), '`+scaleDir+`', '`+scalePlan+`', CASE WHEN i <= 110 AND i > 10 THEN NULL ELSE now() END
			FROM generate_series(1, %d) i`, sh.members))
	}
	for _, q := range append(stmts, "VACUUM ANALYZE") {
		t0 := time.Now()
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatalf("load %d members: %v\n%s", sh.members, err, q)
		}
		b.Logf("TIMING %s %.60s", time.Since(t0), q)
	}
	b.Logf("loaded %d members in %s", sh.members, time.Since(start).Round(time.Millisecond))
	return st, opts.URL
}

// vacuum clears the dead rows a rolled-back iteration left, outside the timer,
// so every iteration finds the same tables.
func vacuum(b *testing.B, url string, tables string) {
	b.Helper()
	conn, err := pgx.Connect(b.Context(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(b.Context(), "VACUUM ANALYZE "+tables); err != nil {
		b.Fatal(err)
	}
}

func scaleSizes(big bool) []int {
	if big {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}

// BenchmarkBaselinePing is one round trip to the database through the store's
// pool: the unit the other benchmarks are read in (docs/PERFORMANCE.md).
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

// BenchmarkDowngrade is the cutover downgrade of a plan in directory mode whose
// N members all hold a paid seat and half of whose directory users are in A:
// one statement moves N/2 members to free and audits each, the counters
// follow. Each iteration rolls its transaction back, so every iteration does
// the same work. 1,000,000 members only with -scale.big or SEATSYNC_BENCH_BIG=1.
func BenchmarkDowngrade(b *testing.B) {
	for _, n := range scaleSizes(*scaleBig || os.Getenv("SEATSYNC_BENCH_BIG") == "1") {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			st, url := scaleStore(b, scaleShape{members: n, inAEvery: 2})
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
				vacuum(b, url, "members, audit_entries, plans, organizations")
				b.StartTimer()
			}
		})
	}
}

// statusShape is the plan the read benchmarks look at: N members, one in ten
// free, the paid ones in A, and an inbox of one applied event per user with
// 100 pending and 10 failed.
func statusShape(n int) scaleShape {
	return scaleShape{members: n, freeEvery: 10, inbox: true}
}

// BenchmarkPlanStatus reads what GET /api/v1/plans/{id} reads from the store
// (pkg/server writeStatus): the plan, its directories with each one's active
// users, the seat counters, the event counts and the reconciliations.
func BenchmarkPlanStatus(b *testing.B) {
	for _, n := range scaleSizes(true) {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			st, _ := scaleStore(b, statusShape(n))
			ctx := b.Context()
			wantPaid, wantFree := int64(n-n/10), int64(n/10)
			for b.Loop() {
				plan, err := st.Plan(ctx, scalePlan)
				if err != nil {
					b.Fatal(err)
				}
				dirs, err := st.PlanDirectories(ctx, scalePlan)
				if err != nil || len(dirs) != 1 {
					b.Fatalf("directories: %v, %v", dirs, err)
				}
				active, err := st.ActiveUsers(ctx, dirs[0].ID)
				if err != nil || active != wantPaid {
					b.Fatalf("active users = %d, %v; want %d", active, err, wantPaid)
				}
				paid, free, err := st.SeatCounts(ctx, scalePlan, plan.OrganizationID)
				if err != nil || paid != wantPaid || free != wantFree {
					b.Fatalf("seats = %d paid, %d free, %v; want %d, %d", paid, free, err, wantPaid, wantFree)
				}
				pending, failed, err := st.PlanEventCounts(ctx, scalePlan)
				if err != nil || pending != 100 || failed != 10 {
					b.Fatalf("events = %d pending, %d failed, %v; want 100, 10", pending, failed, err)
				}
				if _, err := st.PlanReconciliations(ctx, scalePlan); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMembersFirstPage reads what GET /api/v1/plans/{id}/members reads
// from the store for the first page of 100: the plan, then PlanMembers of
// every member (tier=all), the paid seats or the free members.
func BenchmarkMembersFirstPage(b *testing.B) {
	for _, n := range scaleSizes(true) {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			st, _ := scaleStore(b, statusShape(n))
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
