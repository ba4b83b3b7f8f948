package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// The admin page's chart of paid seats over time, reconstructed from the
// audit log and drawn server-side as an SVG step line: no script, no image
// request, and the numbers are the ones the timeline explains.

// chartChanges bounds the audit entries the chart reads; a plan with a longer
// history is drawn from the oldest entry read on, and says so.
const chartChanges = 5000

// Chart geometry, in SVG user units (the SVG scales to its container).
const (
	chartW, chartH         = 640.0, 220.0
	chartLeft, chartRight  = 48.0, 16.0
	chartTop, chartBottom  = 14.0, 30.0
	chartPlotW, chartPlotH = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

// seatPoint is the number of paid seats from At on.
type seatPoint struct {
	At   time.Time
	Paid int64
}

// seatDelta is what a seat-moving audit entry of planID did to its paid count.
func seatDelta(planID string, c store.SeatChange) int64 {
	switch c.Action {
	case membership.ActionGranted, membership.ActionManualAdded:
		return 1
	case membership.ActionMovedToFree, membership.ActionManualRemoved:
		return -1
	case membership.ActionMoved:
		if c.FromPlanID == planID {
			return -1 // the seat left this plan
		}
		return 1 // it came from another plan of the organization
	}
	return 0
}

// seatHistory reconstructs the paid seats of planID over time from its seat
// changes (newest first), so that the series ends at current, the counter the
// status shows: it walks back from now, undoing each change. The first point
// is the count before the oldest change read. Changes at the same instant
// (a cutover downgrade is one statement) make one step.
func seatHistory(planID string, changes []store.SeatChange, current int64, now time.Time) []seatPoint {
	if len(changes) == 0 {
		return nil
	}
	if changes[0].At.After(now) { // a clock a little ahead of ours
		now = changes[0].At
	}
	rev := []seatPoint{{At: now, Paid: current}}
	paid := current
	for i, c := range changes {
		if i == 0 || !c.At.Equal(changes[i-1].At) {
			rev = append(rev, seatPoint{At: c.At, Paid: paid})
		}
		paid -= seatDelta(planID, c)
	}
	oldest := changes[len(changes)-1].At
	rev = append(rev, seatPoint{At: oldest, Paid: paid})
	out := make([]seatPoint, len(rev))
	for i, p := range rev {
		out[len(rev)-1-i] = p
	}
	return out
}

// seatChart is what the template draws.
type seatChart struct {
	W, H, PlotLeft, PlotRight, PlotTop, PlotBottom float64
	// Points is the polyline's points attribute: numbers, commas and spaces only.
	Points string
	YTicks []chartTick
	XFrom  chartTick
	XTo    chartTick
	// Summary describes the chart in words, for the SVG's <desc> and for readers.
	Summary string
	// Since is set when older audit entries were left out of the chart.
	Since *time.Time
}

type chartTick struct {
	X, Y  float64 // where the label goes
	LineY float64 // where its grid line goes (y ticks)
	Label string
}

// newSeatChart lays out the series; nil when there is nothing to draw.
func newSeatChart(points []seatPoint, changes int, truncated bool) *seatChart {
	if len(points) < 2 {
		return nil
	}
	start, end := points[0].At, points[len(points)-1].At
	span := end.Sub(start)
	if span <= 0 {
		span = time.Second
	}
	lo, hi := int64(0), int64(1)
	for _, p := range points {
		lo, hi = min(lo, p.Paid), max(hi, p.Paid)
	}
	// The axis labels show seconds when the history is short, and the date
	// once only when it fits in a day.
	fromLayout, toLayout := "2006-01-02 15:04", "2006-01-02 15:04"
	if span < 10*time.Minute {
		fromLayout = "2006-01-02 15:04:05"
	}
	if start.UTC().YearDay() == end.UTC().YearDay() && start.UTC().Year() == end.UTC().Year() {
		toLayout = strings.TrimPrefix(fromLayout, "2006-01-02 ")
	}
	x := func(t time.Time) float64 { return chartLeft + chartPlotW*float64(t.Sub(start))/float64(span) }
	y := func(v int64) float64 { return chartTop + chartPlotH*float64(hi-v)/float64(hi-lo) }

	var b strings.Builder
	put := func(px, py float64) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(px) + "," + num(py))
	}
	// A step line: hold each value until the next change, then jump. Of the
	// points that fall in one horizontal unit only the last is drawn, which
	// keeps thousands of changes to at most a few hundred vertices.
	type vertex struct{ x, y float64 }
	var cols []vertex
	for _, p := range points {
		v := vertex{x(p.At), y(p.Paid)}
		if n := len(cols); n > 1 && v.x-cols[n-1].x < 1 {
			cols[n-1].y = v.y
			continue
		}
		cols = append(cols, v)
	}
	prevY := cols[0].y
	put(cols[0].x, prevY)
	for _, v := range cols[1:] {
		put(v.x, prevY)
		if v.y != prevY {
			put(v.x, v.y)
		}
		prevY = v.y
	}
	put(chartLeft+chartPlotW, prevY)

	c := &seatChart{W: chartW, H: chartH, PlotLeft: chartLeft, PlotRight: chartLeft + chartPlotW, PlotTop: chartTop,
		PlotBottom: chartTop + chartPlotH, Points: b.String(),
		XFrom: chartTick{X: chartLeft, Y: chartH - 8, Label: start.UTC().Format(fromLayout)},
		XTo:   chartTick{X: chartLeft + chartPlotW, Y: chartH - 8, Label: end.UTC().Format(toLayout) + " UTC"}}
	ticks := []int64{lo, hi}
	if hi-lo >= 4 {
		ticks = []int64{lo, lo + (hi-lo)/2, hi}
	}
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, chartTick{X: chartLeft - 6, Y: y(v) + 4, LineY: y(v), Label: strconv.FormatInt(v, 10)})
	}
	peak := int64(0)
	for _, p := range points {
		peak = max(peak, p.Paid)
	}
	c.Summary = fmt.Sprintf("Paid seats went from %d on %s to %d now (highest: %d), over %d recorded changes.",
		points[0].Paid, start.UTC().Format("2006-01-02 15:04 UTC"), points[len(points)-1].Paid, peak, changes)
	if truncated {
		c.Since = &start
	}
	return c
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
