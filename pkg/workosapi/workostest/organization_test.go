package workostest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOrganizations_externalIDIsUnique(t *testing.T) {
	t.Parallel()
	s := New(t)
	body := map[string]any{"name": "Example Corp", "external_id": "plan_1", "metadata": map[string]string{},
		"domain_data": []map[string]string{{"domain": "example.com", "state": "pending"}}}
	status, _, b := call(t, s, "POST", "/organizations", body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var org struct {
		Object, ID, Name string
		ExternalID       string `json:"external_id"`
		Domains          []struct{ Domain, State string }
	}
	if err := json.Unmarshal(b, &org); err != nil {
		t.Fatal(err)
	}
	if org.Object != "organization" || !strings.HasPrefix(org.ID, "org_") || org.ExternalID != "plan_1" ||
		len(org.Domains) != 1 || org.Domains[0].State != "pending" {
		t.Errorf("created %+v", org)
	}

	status, _, b = call(t, s, "POST", "/organizations", body)
	var e struct{ Code, Message string }
	_ = json.Unmarshal(b, &e)
	if status != http.StatusBadRequest || e.Code != "external_id_already_used" || e.Message == "" {
		t.Errorf("duplicate: %d %s, want 400 external_id_already_used", status, b)
	}
	if got := s.Created("organization"); got != 1 {
		t.Errorf("Created = %d, want 1", got)
	}

	for _, path := range []string{"/organizations/" + org.ID, "/organizations/external_id/plan_1"} {
		if status, _, b := call(t, s, "GET", path, nil); status != http.StatusOK || !strings.Contains(string(b), org.ID) {
			t.Errorf("GET %s: %d %s", path, status, b)
		}
	}
	if status, _, _ := call(t, s, "GET", "/organizations/external_id/plan_2", nil); status != http.StatusNotFound {
		t.Errorf("unknown external id: %d, want 404", status)
	}
	if status, _, _ := call(t, s, "POST", "/organizations", map[string]any{"external_id": "x"}); status != http.StatusUnprocessableEntity {
		t.Errorf("no name: %d, want 422", status)
	}
}

func TestPortal_generateLinkAndSetupPage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	var skew atomic.Int64 // the fake's clock runs in handler goroutines
	s := New(t, WithNow(func() time.Time { return now.Add(time.Duration(skew.Load())) }))
	org := s.AddOrganization("Example <Corp>", "plan_1")

	status, _, b := call(t, s, "POST", "/portal/generate_link", map[string]string{"organization": "org_nope", "intent": "dsync"})
	if status != http.StatusNotFound || !strings.Contains(string(b), "message") {
		t.Errorf("unknown org: %d %s, want 404 {message}", status, b)
	}
	status, _, b = call(t, s, "POST", "/portal/generate_link", map[string]string{"organization": org, "intent": "dsync",
		"return_url": "https://billing.example/plans/1"})
	var res struct{ Link string }
	_ = json.Unmarshal(b, &res)
	if status != http.StatusCreated || !strings.HasPrefix(res.Link, s.URL+"/portal/setup?token=") {
		t.Fatalf("generate: %d %s", status, b)
	}
	if s.Created("portal_link") != 1 {
		t.Errorf("Created(portal_link) = %d, want 1", s.Created("portal_link"))
	}

	page := func() (int, string) {
		r, err := http.Get(res.Link) // a browser: no API key
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return r.StatusCode, string(b)
	}
	status, html := page()
	for _, want := range []string{"WorkOS Admin Portal (fake)", "dsync", org, "Example &lt;Corp&gt;", "https://billing.example/plans/1"} {
		if !strings.Contains(html, want) {
			t.Errorf("setup page lacks %q:\n%s", want, html)
		}
	}
	if status != http.StatusOK || strings.Contains(html, `id="success"`) {
		t.Errorf("setup page: %d, success link shown without a success_url", status)
	}
	skew.Store(int64(6 * time.Minute))
	if status, _ := page(); status != http.StatusNotFound {
		t.Errorf("after 6 minutes: %d, want 404", status)
	}
}
