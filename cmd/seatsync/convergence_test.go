package main

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/seatsync/seatsync/store/storetest"
)

var (
	histories = flag.Int("histories", 300, "random histories in TestConvergence (long mode: -histories=5000)")
	seedFlag  = flag.Uint64("seed", 0, "seed for TestConvergence (0 = random)")
)

// TestConvergence is the ordering promise of SPEC §4.3: random histories of
// several plans, delivered to the real HTTP endpoint shuffled, duplicated and
// from concurrent senders, end in exactly the state of applying them in order.
func TestConvergence(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	hs := make([]history, *histories)
	for i := range hs {
		hs[i] = genHistory(r, i)
	}

	ref := startInstance(t, testConfig(t, storetest.Options(t, "postgres")), false)
	got := startInstance(t, testConfig(t, storetest.Options(t, "postgres")), true)
	for _, h := range hs {
		h.setup(t, ref)
		h.setup(t, got)
	}

	// In order: one sender, then one applier takes the inbox in arrival order.
	var inOrder, deletes [][]byte
	for _, h := range hs {
		inOrder = append(inOrder, h.events...)
		deletes = append(deletes, h.deletes...)
	}
	sendAll(t, []string{ref.url}, append(append([][]byte{}, inOrder...), deletes...), 1)
	if err := ref.applier.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Shuffled, duplicated, concurrent. A directory's deletion comes after its
	// other events have been applied (see the note in TestConvergence's doc).
	sendAll(t, []string{got.url}, shuffled(r, inOrder, 0.1), 8)
	settle(t, got)
	sendAll(t, []string{got.url}, shuffled(r, deletes, 0.5), 4)
	settle(t, got)

	for _, ti := range []*testInstance{ref, got} {
		counts, err := ti.store.InboxCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if counts["failed"]+counts["rejected"]+counts["unmatched"]+counts["pending"] > 0 {
			t.Errorf("inbox outcomes %v: want every event applied or stale", counts)
		}
	}
	want, have := dump(t, ref), dump(t, got)
	if want != have {
		t.Fatalf("state differs from the in-order result (seed %d):\n%s", seed, diffLines(want, have))
	}
}

// diffLines shows the lines present on one side only.
func diffLines(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 60 {
		out = append(out[:60], "…")
	}
	return strings.Join(out, "\n")
}
