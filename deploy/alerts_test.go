// Package deploy holds deployment samples (alerts.yml) and the test that
// keeps them in step with the code.
package deploy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/seatsync/seatsync/pkg/metrics"
	"github.com/seatsync/seatsync/store/storetest"
)

// ruleFile is the part of a Prometheus rule file the test checks.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func TestAlerts(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true) // a misspelt key (annotation:, label:) fails here, not silently in Prometheus
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	known := registeredNames(t)
	var alerts []string
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: want a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			checkRule(t, r, known)
		}
	}
	for _, want := range []string{"InboxBacklogOld", "EventsFailed", "SignatureFailureSpike", "ApplierStalled"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alerts.yml has no alert %s; has %v", want, alerts)
		}
	}
}

func checkRule(t *testing.T, r rule, known map[string]bool) {
	t.Helper()
	if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
		t.Errorf("rule %q: want alert and expr, got expr %q", r.Alert, r.Expr)
	}
	if d, err := model.ParseDuration(r.For); err != nil || time.Duration(d) < 0 {
		t.Errorf("%s: for %q is not a Prometheus duration: %v", r.Alert, r.For, err)
	}
	if s := r.Labels["severity"]; s != "warning" && s != "critical" {
		t.Errorf("%s: labels.severity = %q, want warning or critical", r.Alert, s)
	}
	for _, k := range []string{"summary", "description"} {
		if strings.TrimSpace(r.Annotations[k]) == "" {
			t.Errorf("%s: annotations.%s is empty", r.Alert, k)
		}
	}
	for _, w := range regexp.MustCompile(`\[([^\]]+)\]`).FindAllStringSubmatch(r.Expr, -1) {
		if _, err := model.ParseDuration(w[1]); err != nil {
			t.Errorf("%s: range [%s] is not a Prometheus duration: %v", r.Alert, w[1], err)
		}
	}
	names := metricNames(r.Expr)
	if len(names) == 0 {
		t.Errorf("%s: expr %q names no metric", r.Alert, r.Expr)
	}
	for _, n := range names {
		if !known[n] {
			t.Errorf("%s: expr uses %s, which seatsync does not export", r.Alert, n)
		}
	}
}

// registeredNames returns every series name a seatsync process serves, from
// a fresh registry on which each collector has been exercised once (a vector
// with no child yet exports nothing).
func registeredNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	if err := m.WatchStore(storetest.Open(t, "sqlite")); err != nil {
		t.Fatal(err)
	}
	m.EventReceived("webhook", "dsync.user.created", "accepted")
	m.WebhookRejected("signature_mismatch")
	m.EventApplied("dsync.user.created", "applied", time.Second)
	m.EventRetried("dsync.user.created")
	m.ApplyBatch(1)
	m.HTTPRequest("GET", "/healthz", 200, time.Millisecond)
	m.WorkOSRequest("GET", "/events", "200")
	m.ReconcileProgress("plan_1", "directory_1", "done", 1, 0)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		names[n] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY {
			names[n+"_sum"], names[n+"_count"] = true, true
			if mf.GetType() == dto.MetricType_HISTOGRAM {
				names[n+"_bucket"] = true
			}
		}
	}
	return names
}

var (
	promQuoted   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// metricNames returns the metric names a PromQL expression selects: what
// is left once strings, label matchers, ranges and grouping clauses are
// removed, minus functions, aggregations (an identifier before "(") and
// the binary keywords.
func metricNames(expr string) []string {
	for _, re := range []*regexp.Regexp{promQuoted, promMatchers, promRanges, promGrouping} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var out []string
	for _, m := range promIdent.FindAllStringSubmatch(expr, -1) {
		word := strings.TrimRight(strings.TrimSuffix(strings.TrimSpace(m[0]), "("), " ")
		switch {
		case m[1] != "":
		case word == "and" || word == "or" || word == "unless" || word == "bool" || word == "offset":
		default:
			out = append(out, word)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want []string
	}{
		{`max(a_seconds) > 300`, []string{"a_seconds"}},
		{`sum by (event_type) (increase(b_total{outcome="failed", x=~"a(b)"}[15m])) > 0`, []string{"b_total"}},
		{`(max(p) - max(w)) > 0 and on () (sum(increase(c_total[10m])) or vector(0)) == 0`, []string{"p", "w", "c_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))`, []string{"h_bucket"}},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
