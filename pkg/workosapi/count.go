package workosapi

import (
	"context"
	"slices"
	"sync/atomic"
)

type countersKey struct{}

// CountRequests returns a context under which every HTTP request a Client
// sends, retries included, also adds one to n. Client.Requests counts for the
// whole process; this counts one piece of work (one reconciliation) while
// others share the Client. Counters nest: an inner one does not hide an outer.
func CountRequests(ctx context.Context, n *atomic.Int64) context.Context {
	prev := counters(ctx)
	return context.WithValue(ctx, countersKey{}, append(slices.Clip(prev), n))
}

func counters(ctx context.Context) []*atomic.Int64 {
	c, _ := ctx.Value(countersKey{}).([]*atomic.Int64)
	return c
}
