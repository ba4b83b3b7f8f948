package workosapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func TestPortalLink(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	org := srv.AddOrganization("Example Corp", "plan_1")
	c, _ := newClient(t, srv)

	link, err := c.PortalLink(t.Context(), org, "https://billing.example/plans/plan_1", "")
	if err != nil || !strings.HasPrefix(link, srv.URL+"/portal/setup?token=") {
		t.Fatalf("PortalLink = %q, %v", link, err)
	}
	var body map[string]any
	if err := json.Unmarshal(srv.Calls("/portal/generate_link")[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["intent"] != "dsync" || body["organization"] != org || body["return_url"] != "https://billing.example/plans/plan_1" {
		t.Errorf("body = %v", body)
	}
	if _, ok := body["success_url"]; ok {
		t.Errorf("an empty success_url was sent: %v", body)
	}

	_, err = c.PortalLink(t.Context(), "org_missing", "", "")
	wantCode(t, err, membership.Upstream, "workos_not_found", srv.APIKey)
	if !strings.Contains(err.Error(), "request id req_") {
		t.Errorf("error lacks the request id: %v", err)
	}
}
