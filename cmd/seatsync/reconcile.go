package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/seatsync/seatsync/pkg/reconcile"
)

func reconcileCmd(e *env) *cobra.Command {
	var planID string
	c := &cobra.Command{
		Use:   "reconcile --plan PLAN_ID",
		Short: "List the plan's directory users from WorkOS, apply them and mark the missing ones gone",
		Long: "reconcile lists every user of the plan's directories from the WorkOS API, applies each as a\n" +
			"snapshot (never over a newer event) and, after a complete listing, marks users WorkOS no\n" +
			"longer lists as gone. An interrupted run resumes where it stopped the next time.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if cfg.WorkOS.APIKey == "" {
				return fmt.Errorf("reconcile: workos.api_key is not configured (set SEATSYNC_WORKOS_API_KEY)")
			}
			return e.withService(c.Context(), func(svc *instance) error {
				pp := newProgressPrinter(e.stderr)
				rep, err := svc.reconciler.Run(c.Context(), planID, pp.update)
				pp.finish()
				if err != nil {
					if rep.Directories > 0 {
						fmt.Fprintf(e.stderr, "reconcile interrupted after %d listed; run it again to resume\n", rep.Listed)
					}
					return err
				}
				resumed := ""
				if rep.Resumed > 0 {
					resumed = fmt.Sprintf(" (%d resumed)", rep.Resumed)
				}
				_, err = fmt.Fprintf(e.stdout, "reconciled plan %s: %d %s%s, %d listed, %d changed, %d marked gone, %d requests in %s\n",
					planID, rep.Directories, plural(rep.Directories, "directory", "directories"), resumed,
					rep.Listed, rep.Changed, rep.Gone, rep.Requests, rep.Duration.Round(time.Millisecond))
				return err
			})
		},
	}
	c.Flags().StringVar(&planID, "plan", "", "plan id (required)")
	_ = c.MarkFlagRequired("plan")
	return c
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progressPrinter draws a progress bar on a terminal and, elsewhere (a pipe,
// a log file, a test), writes plain lines: one when a directory or phase
// starts or ends, and at most one a second in between.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	width int
	drawn bool
	key   string
	last  time.Time
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, width: 80}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 20 {
			p.width = width
		}
	}
	return p
}

func (p *progressPrinter) update(pr reconcile.Progress) {
	head := fmt.Sprintf("%s (%d/%d)", pr.DirectoryID, pr.Directory, pr.Directories)
	counts := fmt.Sprintf("%d listed, %d changed, %d gone, %d requests", pr.Listed, pr.Changed, pr.Gone, pr.Requests)
	if p.tty {
		p.bar(head, counts, pr)
		return
	}
	key := pr.DirectoryID + " " + pr.Phase
	if key == p.key && time.Since(p.last) < time.Second {
		return
	}
	p.key, p.last = key, time.Now()
	phase := pr.Phase
	if pr.Resumed && pr.Phase == "listing" {
		phase = "listing (resumed)"
	}
	if pr.Phase == "listing" && pr.Expected > pr.Listed {
		counts = fmt.Sprintf("%d of ~%d listed, %d changed, %d gone, %d requests", pr.Listed, pr.Expected, pr.Changed, pr.Gone, pr.Requests)
	}
	fmt.Fprintf(p.w, "%s: %s: %s\n", head, phase, counts)
}

// bar redraws one line: the directory, a bar of listed over expected users
// (the stored count is an estimate, so it stops short of full until the
// listing ends), and the counts. With nothing stored yet the total is
// unknown, and a marker moves with each page instead.
func (p *progressPrinter) bar(head, counts string, pr reconcile.Progress) {
	width := max(p.width-len(head)-len(counts)-6, 10)
	fill := strings.Repeat("=", width)
	switch {
	case pr.Phase != "listing":
	case pr.Expected > pr.Listed:
		n := width * pr.Listed / pr.Expected
		fill = strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	case pr.Expected == pr.Listed && pr.Listed > 0:
		fill = strings.Repeat("=", width-1) + " "
	default:
		at := pr.Requests % (width - 2)
		fill = strings.Repeat(" ", at) + "<=>" + strings.Repeat(" ", width-at-3)
	}
	fmt.Fprintf(p.w, "\r%s [%s] %s\x1b[K", head, fill, counts)
	p.drawn = true
	if pr.Phase == "done" {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// finish ends a bar left mid-line, so what follows starts on its own line.
func (p *progressPrinter) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
