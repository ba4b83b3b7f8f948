package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

const (
	scimPlan       = "plan_scim"
	returnTemplate = "https://billing.test/plans/{plan_id}/billing"
	successTmpl    = "https://billing.test/plans/{plan_id}?scim=done"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// portalEnv is a server with a fake WorkOS behind it, and everything both log.
type portalEnv struct {
	e    *echo.Echo
	st   *store.Store
	wos  *workostest.Server
	logs *syncBuffer
}

// newPortalServer builds the server over a fresh store of dialect, with the
// WorkOS client pointed at a fake WorkOS, and seeds the organization acme
// (domains acme.test, acme.example) with plan_scim (admin admin@acme.test,
// no WorkOS organization) and plan_other (admin other@acme.test). edit may
// change the deps and the WorkOS client's options before they are used.
func newPortalServer(t *testing.T, dialect string, edit func(*server.Deps, *workosapi.Options)) *portalEnv {
	t.Helper()
	st := storetest.Open(t, dialect)
	fake := workostest.New(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	d := server.Deps{
		Store: st, Applier: applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour}), Auth: av, Rules: rules,
		Log: log, PortalReturnURL: returnTemplate, PortalSuccessURL: successTmpl, SessionSecret: jwtSecret,
	}
	wo := workosapi.Options{APIKey: fake.APIKey, Endpoint: fake.URL, Log: log,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	if edit != nil {
		edit(&d, &wo)
	}
	if wo.APIKey != "" {
		if d.WorkOS, err = workosapi.New(wo); err != nil {
			t.Fatal(err)
		}
	}
	e := server.New(d)
	svc := asService(t)
	scenario{method: http.MethodPut, path: "/api/v1/organizations/" + orgID, headers: svc,
		body: `{"name":"Acme","domains":["acme.test","acme.example"]}`, status: http.StatusOK}.do(t, e)
	scenario{method: http.MethodPut, path: "/api/v1/plans/" + scimPlan, headers: svc,
		body: `{"organization_id":"acme","name":"Team","admins":["admin@acme.test"]}`, status: http.StatusCreated}.do(t, e)
	scenario{method: http.MethodPut, path: "/api/v1/plans/" + otherPlan, headers: svc,
		body: `{"organization_id":"acme","name":"Other","admins":["other@acme.test"]}`, status: http.StatusCreated}.do(t, e)
	return &portalEnv{e: e, st: st, wos: fake, logs: logs}
}

func linkPath(plan string) string { return "/api/v1/plans/" + plan + "/scim/portal-link" }

// wantLink checks a 200 answer of the portal-link API and returns the link.
func (pe *portalEnv) wantLink(t *testing.T, rec interface{ Header() http.Header }, body []byte) string {
	t.Helper()
	var got struct {
		Link      string `json:"link"`
		ExpiresAt string `json:"expires_at"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("portal link body: %v; body: %s", err, body)
	}
	if !strings.HasPrefix(got.Link, pe.wos.URL+"/portal/setup?token=") {
		t.Errorf("link = %q, want one of the fake WorkOS", got.Link)
	}
	exp, err := time.Parse(time.RFC3339, got.ExpiresAt)
	if err != nil {
		t.Fatalf("expires_at %q is not RFC 3339: %v", got.ExpiresAt, err)
	}
	if want := time.Now().Add(5 * time.Minute); exp.Before(want.Add(-10*time.Second)) || exp.After(want) {
		t.Errorf("expires_at = %v, want about now + 5 minutes (%v)", exp, want)
	}
	if cc := rec.Header().Get(echo.HeaderCacheControl); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	return got.Link
}

// openLink opens a portal link the way a browser would and returns the page.
func openLink(t *testing.T, link string) string {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", link, res.StatusCode, b)
	}
	return string(b)
}

type linkRequest struct {
	Organization string `json:"organization"`
	Intent       string `json:"intent"`
	ReturnURL    string `json:"return_url"`
	SuccessURL   string `json:"success_url"`
}

func lastLinkRequest(t *testing.T, fake *workostest.Server) linkRequest {
	t.Helper()
	calls := fake.Calls("/portal/generate_link")
	if len(calls) == 0 {
		t.Fatal("no generate_link call")
	}
	var b linkRequest
	if err := json.Unmarshal(calls[len(calls)-1].Body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPortalLinkAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		pe := newPortalServer(t, dialect, nil)
		admin := asAdmin(t, adminEmail)

		run(t, pe.e, []scenario{
			{name: "no token", method: http.MethodPost, path: linkPath(scimPlan), status: http.StatusUnauthorized, code: "missing_token"},
			{name: "another plan's admin", method: http.MethodPost, path: linkPath(scimPlan), headers: asAdmin(t, otherAdmin),
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "unknown plan", method: http.MethodPost, path: linkPath("plan_nope"), headers: asService(t),
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "GET", path: linkPath(scimPlan), headers: admin, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
		})
		if n := pe.wos.Requests("/"); n != 0 {
			t.Fatalf("refused requests called WorkOS %d times", n)
		}

		rec := scenario{method: http.MethodPost, path: linkPath(scimPlan), headers: admin, status: http.StatusOK,
			excludes: []string{pe.wos.APIKey}}.do(t, pe.e)
		link := pe.wantLink(t, rec, rec.Body.Bytes())

		// One organization, with the plan id as external_id and the plan's domains.
		if n := pe.wos.Created("organization"); n != 1 {
			t.Fatalf("organizations created = %d, want 1", n)
		}
		creates := pe.wos.Calls("/organizations")
		if len(creates) != 1 || creates[0].Method != http.MethodPost {
			t.Fatalf("organization calls = %d, want one POST", len(creates))
		}
		var org struct {
			Name       string `json:"name"`
			ExternalID string `json:"external_id"`
			DomainData []struct {
				Domain, State string
			} `json:"domain_data"`
		}
		if err := json.Unmarshal(creates[0].Body, &org); err != nil {
			t.Fatal(err)
		}
		var domains []string
		for _, d := range org.DomainData {
			domains = append(domains, d.Domain)
		}
		slices.Sort(domains)
		if org.ExternalID != scimPlan || org.Name != "Team" || !slices.Equal(domains, []string{"acme.example", "acme.test"}) {
			t.Errorf("created organization = %+v, want external_id %s, name Team, domains acme.example and acme.test", org, scimPlan)
		}

		// The link is for that organization, intent dsync, with the plan's URLs.
		lr := lastLinkRequest(t, pe.wos)
		want := linkRequest{Organization: lr.Organization, Intent: "dsync",
			ReturnURL: "https://billing.test/plans/plan_scim/billing", SuccessURL: "https://billing.test/plans/plan_scim?scim=done"}
		if lr != want || !strings.HasPrefix(lr.Organization, "org_") {
			t.Errorf("generate_link body = %+v, want %+v", lr, want)
		}
		if page := openLink(t, link); !strings.Contains(page, `<strong id="intent">dsync</strong>`) || !strings.Contains(page, ">Team<") {
			t.Errorf("portal page does not show intent dsync for Team:\n%s", page)
		}

		// The plan is linked to it.
		scenario{name: "plan linked", path: "/api/v1/plans/" + scimPlan, headers: admin, status: http.StatusOK,
			contains: []string{`"workos_organization_id":"` + lr.Organization + `"`}}.do(t, pe.e)

		// Again, as the service: the stored organization is reused, the link is new.
		rec = scenario{method: http.MethodPost, path: linkPath(scimPlan), headers: asService(t), status: http.StatusOK}.do(t, pe.e)
		if again := pe.wantLink(t, rec, rec.Body.Bytes()); again == link {
			t.Error("second request got the same link: links must not be cached")
		}
		if n, calls := pe.wos.Created("organization"), len(pe.wos.Calls("/organizations")); n != 1 || calls != 1 {
			t.Errorf("after a second request: %d organizations created, %d organization calls; want 1 and 1", n, calls)
		}
		if lr2 := lastLinkRequest(t, pe.wos); lr2.Organization != lr.Organization {
			t.Errorf("second link for %s, want %s", lr2.Organization, lr.Organization)
		}
		if n := pe.wos.Created("portal_link"); n != 2 {
			t.Errorf("portal links created = %d, want 2", n)
		}
		if logs := pe.logs.String(); strings.Contains(logs, pe.wos.APIKey) || !strings.Contains(logs, "created WorkOS organization") {
			t.Errorf("logs must record the creation and never the API key:\n%s", logs)
		}
	})
}

// wantKindCode checks that err carries a *membership.Error with code.
func wantKindCode(t *testing.T, err error, code string) {
	t.Helper()
	var me *membership.Error
	if !errors.As(err, &me) || me.Code != code {
		t.Errorf("error = %v, want code %s", err, code)
	}
}

// TestPortalLinkLinkedPlan: a plan the billing system already linked keeps
// its WorkOS organization; none is created.
func TestPortalLinkLinkedPlan(t *testing.T) {
	pe := newPortalServer(t, "sqlite", func(d *server.Deps, _ *workosapi.Options) { d.PortalSuccessURL = "" })
	existing := pe.wos.AddOrganization("Acme (set up by hand)", "")
	scenario{method: http.MethodPut, path: "/api/v1/plans/" + scimPlan, headers: asService(t),
		body:   `{"organization_id":"acme","name":"Team","admins":["admin@acme.test"],"workos_organization_id":"` + existing + `"}`,
		status: http.StatusOK}.do(t, pe.e)

	rec := scenario{method: http.MethodPost, path: linkPath(scimPlan), headers: asAdmin(t, adminEmail), status: http.StatusOK}.do(t, pe.e)
	pe.wantLink(t, rec, rec.Body.Bytes())
	if n := pe.wos.Requests("/organizations"); n != 0 {
		t.Errorf("%d organization calls for a linked plan, want 0", n)
	}
	calls := pe.wos.Calls("/portal/generate_link")
	var raw map[string]any
	if err := json.Unmarshal(calls[0].Body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["organization"] != existing {
		t.Errorf("link for %v, want the linked %s", raw["organization"], existing)
	}
	if _, ok := raw["success_url"]; ok {
		t.Errorf("success_url sent although none is configured: %s", calls[0].Body)
	}
}

// TestSetWorkOSOrganization: the first id stored wins; an id that another
// plan holds is a conflict.
func TestSetWorkOSOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		pe := newPortalServer(t, dialect, nil)
		ctx := t.Context()
		if got, err := pe.st.SetWorkOSOrganization(ctx, scimPlan, "org_FIRST"); err != nil || got != "org_FIRST" {
			t.Fatalf("first set = %q, %v; want org_FIRST", got, err)
		}
		if got, err := pe.st.SetWorkOSOrganization(ctx, scimPlan, "org_SECOND"); err != nil || got != "org_FIRST" {
			t.Fatalf("second set = %q, %v; want the stored org_FIRST", got, err)
		}
		_, err := pe.st.SetWorkOSOrganization(ctx, otherPlan, "org_FIRST")
		wantKindCode(t, err, "workos_organization_in_use")
		_, err = pe.st.SetWorkOSOrganization(ctx, "plan_nope", "org_X")
		wantKindCode(t, err, "plan_not_found")
	})
}

func TestPortalLinkNotConfigured(t *testing.T) {
	pe := newPortalServer(t, "sqlite", func(_ *server.Deps, o *workosapi.Options) { o.APIKey = "" })
	scenario{method: http.MethodPost, path: linkPath(scimPlan), headers: asAdmin(t, adminEmail),
		status: http.StatusServiceUnavailable, code: "workos_not_configured",
		respHeaders: map[string]string{"Retry-After": "", echo.HeaderCacheControl: "no-store"}}.do(t, pe.e)
	scenario{path: "/api/v1/plans/" + scimPlan, headers: asAdmin(t, adminEmail), status: http.StatusOK,
		contains: []string{`"workos_organization_id":""`}}.do(t, pe.e)
}

// TestPortalLinkWorkOSErrors: WorkOS failures are 502s naming the step and
// the cause; neither answers nor logs ever contain the API key.
func TestPortalLinkWorkOSErrors(t *testing.T) {
	const wrongKey = "sk_test_wrong_key_0123456789abcdef"
	tests := []struct {
		name     string
		wrongKey bool
		// failPath answers failN requests with failStatus.
		failPath          string
		failN, failStatus int
		code              string
		message           []string
		linked            bool
	}{
		{name: "bad API key", wrongKey: true, code: "workos_unauthorized",
			message: []string{"could not create the WorkOS organization", "WorkOS rejected the API key", "HTTP 401"}},
		{name: "rate limited throughout", failPath: "/organizations", failN: 100, failStatus: http.StatusTooManyRequests,
			code: "workos_rate_limited", message: []string{"could not create the WorkOS organization", "rate limit", "HTTP 429"}},
		{name: "WorkOS down", failPath: "/organizations", failN: 100, failStatus: http.StatusInternalServerError,
			code: "workos_unavailable", message: []string{"could not create the WorkOS organization", "unavailable", "HTTP 500"}},
		{name: "link refused", failPath: "/portal/generate_link", failN: 1, failStatus: http.StatusUnprocessableEntity,
			code: "workos_invalid_request", message: []string{"could not generate the Admin Portal link", "HTTP 422"}, linked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var realKey string
			pe := newPortalServer(t, "sqlite", func(_ *server.Deps, o *workosapi.Options) {
				realKey = o.APIKey
				if tt.wrongKey {
					o.APIKey = wrongKey
				}
			})
			if tt.failPath != "" {
				pe.wos.FailNext(http.MethodPost, tt.failPath, tt.failN, tt.failStatus, "1")
			}
			scenario{method: http.MethodPost, path: linkPath(scimPlan), headers: asAdmin(t, adminEmail), status: http.StatusBadGateway,
				code: tt.code, contains: tt.message, excludes: []string{realKey, wrongKey},
				respHeaders: map[string]string{echo.HeaderCacheControl: "no-store"}}.do(t, pe.e)
			logs := pe.logs.String()
			if !strings.Contains(logs, "WorkOS call failed") {
				t.Errorf("the failure is not logged:\n%s", logs)
			}
			for _, key := range []string{realKey, wrongKey} {
				if strings.Contains(logs, key) {
					t.Errorf("logs contain the API key %q:\n%s", key, logs)
				}
			}
			row, err := pe.st.Plan(t.Context(), scimPlan)
			if err != nil {
				t.Fatal(err)
			}
			if linked := row.WorkOSOrganizationID != nil; linked != tt.linked {
				t.Errorf("plan linked = %v, want %v", linked, tt.linked)
			}
		})
	}
}
