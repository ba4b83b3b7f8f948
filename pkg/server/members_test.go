package server_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store/storetest"
)

type memberJSON struct {
	Email           string    `json:"email"`
	Name            string    `json:"name"`
	Tier            string    `json:"tier"`
	Source          string    `json:"source"`
	DirectoryUserID string    `json:"directory_user_id"`
	UpdatedAt       time.Time `json:"updated_at"`
}

type listJSON[T any] struct {
	Object       string `json:"object"`
	Data         []T    `json:"data"`
	ListMetadata struct {
		After *string `json:"after"`
	} `json:"list_metadata"`
}

type auditJSON struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	MemberEmail string    `json:"member_email"`
	Reason      string    `json:"reason"`
}

// pages follows list_metadata.after from path (which has a query string) to
// the end and returns every page.
func pages[T any](t *testing.T, ts *testServer, path string, headers map[string]string) [][]T {
	t.Helper()
	var out [][]T
	after := ""
	for range 100 {
		p := path
		if after != "" {
			p += "&after=" + url.QueryEscape(after)
		}
		l := decode[listJSON[T]](t, scenario{path: p, headers: headers, status: http.StatusOK}.do(t, ts.e))
		if l.Object != "list" || l.Data == nil {
			t.Fatalf("GET %s: object %q, data %v; want a list with a data array", p, l.Object, l.Data)
		}
		out = append(out, l.Data)
		if l.ListMetadata.After == nil {
			return out
		}
		after = *l.ListMetadata.After
	}
	t.Fatalf("GET %s: more than 100 pages", path)
	return nil
}

func emails(ms []memberJSON) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Email)
	}
	return out
}

func TestMembersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		admin, other := asAdmin(t, adminEmail), asAdmin(t, otherAdmin)
		members := "/api/v1/plans/" + planID + "/members"

		var want []string
		for i := range 25 {
			email := fmt.Sprintf("user%02d@acme.test", i)
			want = append(want, email)
			rec := scenario{method: http.MethodPost, path: members, headers: admin,
				body:   fmt.Sprintf(`{"email":" USER%02d@Acme.test ","name":"User %d"}`, i, i),
				status: http.StatusCreated}.do(t, ts.e)
			m := decode[memberJSON](t, rec)
			if m.Email != email || m.Name != fmt.Sprintf("User %d", i) || m.Tier != "paid" || m.Source != "manual" {
				t.Fatalf("POST %s = %+v, want a paid manual seat for %s", email, m, email)
			}
		}

		t.Run("pagination", func(t *testing.T) {
			ps := pages[memberJSON](t, ts, members+"?limit=10", admin)
			if len(ps) != 3 || len(ps[0]) != 10 || len(ps[1]) != 10 || len(ps[2]) != 5 {
				t.Fatalf("page sizes = %d pages, want 10, 10, 5", len(ps))
			}
			var got []string
			for _, p := range ps {
				got = append(got, emails(p)...)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("members over all pages = %v, want %v", got, want)
			}
			for _, m := range ps[0] {
				if m.Tier != "paid" || m.Source != "manual" || m.UpdatedAt.IsZero() {
					t.Errorf("member %+v: want paid, manual, with updated_at", m)
				}
			}
		})
		t.Run("cursor is opaque", func(t *testing.T) {
			l := decode[listJSON[memberJSON]](t, scenario{path: members + "?limit=10", headers: admin, status: http.StatusOK}.do(t, ts.e))
			if l.ListMetadata.After == nil {
				t.Fatal("no after cursor on a full page")
			}
			if a := *l.ListMetadata.After; strings.Contains(a, "@") || strings.Contains(a, "user") {
				t.Errorf("after = %q, want an opaque cursor, not an email", a)
			}
		})
		t.Run("default limit is 10", func(t *testing.T) {
			l := decode[listJSON[memberJSON]](t, scenario{path: members, headers: admin, status: http.StatusOK}.do(t, ts.e))
			if len(l.Data) != 10 || l.ListMetadata.After == nil {
				t.Errorf("default page: %d members, after %v; want 10 and a cursor", len(l.Data), l.ListMetadata.After)
			}
		})

		run(t, ts.e, []scenario{
			{name: "second POST is harmless", method: http.MethodPost, path: members, headers: admin,
				body: `{"email":"user05@acme.test","name":"User 5"}`, status: http.StatusCreated, contains: []string{`"tier":"paid"`}},
			{name: "invalid email", method: http.MethodPost, path: members, headers: admin, body: `{"email":"nobody"}`,
				status: http.StatusBadRequest, code: "invalid_email"},
			{name: "email with a space", method: http.MethodPost, path: members, headers: admin, body: `{"email":"no body@acme.test"}`,
				status: http.StatusBadRequest, code: "invalid_email"},
			{name: "invalid name", method: http.MethodPost, path: members, headers: admin, body: `{"email":"n@acme.test","name":"a\nb"}`,
				status: http.StatusBadRequest, code: "invalid_name"},
			{name: "unknown field", method: http.MethodPost, path: members, headers: admin, body: `{"email":"n@acme.test","tier":"paid"}`,
				status: http.StatusBadRequest, code: "invalid_json"},
			{name: "not JSON", method: http.MethodPost, path: members, headers: admin, body: `email=n@acme.test`,
				status: http.StatusBadRequest, code: "invalid_json"},
			{name: "body over 64 KiB", method: http.MethodPost, path: members, headers: admin, body: bigJSON,
				status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
			{name: "seat on the other plan", method: http.MethodPost, path: "/api/v1/plans/" + otherPlan + "/members", headers: other,
				body: `{"email":"solo@acme.test"}`, status: http.StatusCreated},
			{name: "seat elsewhere", method: http.MethodPost, path: members, headers: admin, body: `{"email":"Solo@acme.test"}`,
				status: http.StatusConflict, code: "seat_elsewhere"},
			{name: "seat elsewhere, the other way", method: http.MethodPost, path: "/api/v1/plans/" + otherPlan + "/members", headers: other,
				body: `{"email":"user07@acme.test"}`, status: http.StatusConflict, code: "seat_elsewhere"},

			{name: "remove", method: http.MethodDelete, path: members + "/user00@acme.test", headers: admin, status: http.StatusNoContent},
			{name: "remove, email in another case", method: http.MethodDelete, path: members + "/USER01@Acme.Test", headers: admin,
				status: http.StatusNoContent},
			{name: "remove, percent-encoded", method: http.MethodDelete, path: members + "/user02%40acme.test", headers: admin,
				status: http.StatusNoContent},
			{name: "remove again", method: http.MethodDelete, path: members + "/user00@acme.test", headers: admin,
				status: http.StatusNotFound, code: "member_not_found"},
			{name: "remove a stranger", method: http.MethodDelete, path: members + "/nobody@acme.test", headers: admin,
				status: http.StatusNotFound, code: "member_not_found"},
			{name: "remove a seat of the other plan", method: http.MethodDelete, path: members + "/solo@acme.test", headers: admin,
				status: http.StatusNotFound, code: "member_not_found"},
			{name: "remove an invalid email", method: http.MethodDelete, path: members + "/not-an-email", headers: admin,
				status: http.StatusBadRequest, code: "invalid_email"},

			{name: "plus sign", method: http.MethodPost, path: members, headers: admin, body: `{"email":"first+tag@acme.test"}`,
				status: http.StatusCreated},
			{name: "remove plus sign, percent-encoded", method: http.MethodDelete, path: members + "/first%2Btag%40acme.test",
				headers: admin, status: http.StatusNoContent},
			{name: "percent sign", method: http.MethodPost, path: members, headers: admin, body: `{"email":"a%41b@acme.test"}`,
				status: http.StatusCreated},
			{name: "look-alike of the percent sign", method: http.MethodPost, path: members, headers: admin, body: `{"email":"aab@acme.test"}`,
				status: http.StatusCreated},
			// url.PathEscape leaves the @ alone, so the request has no RawPath:
			// the path must be decoded once, not twice (a%41b → aAb).
			{name: "remove percent sign, escaped once", method: http.MethodDelete, path: members + "/" + url.PathEscape("a%41b@acme.test"),
				headers: admin, status: http.StatusNoContent},
		})

		t.Run("tiers", func(t *testing.T) {
			free := pages[memberJSON](t, ts, members+"?tier=free&limit=100", admin)
			if got := strings.Join(emails(free[0]), ","); len(free) != 1 ||
				got != "a%41b@acme.test,first+tag@acme.test,user00@acme.test,user01@acme.test,user02@acme.test" {
				t.Errorf("tier=free = %v", got)
			}
			for _, m := range free[0] {
				if m.Tier != "free" || m.Source != "" {
					t.Errorf("free member %+v: want tier free, no source", m)
				}
			}
			paid := pages[memberJSON](t, ts, members+"?tier=paid&limit=100", admin)
			if len(paid) != 1 || len(paid[0]) != 23 || paid[0][0].Email != "aab@acme.test" {
				t.Errorf("tier=paid: %d pages, %v; want 23 seats from aab@acme.test", len(paid), emails(paid[0]))
			}
			for _, m := range paid[0] {
				if m.Tier != "paid" {
					t.Errorf("paid member %+v: want tier paid", m)
				}
			}
			// Paging through a filtered list stays within the filter.
			ps := pages[memberJSON](t, ts, members+"?tier=paid&limit=10", admin)
			if len(ps) != 3 || len(ps[2]) != 3 {
				t.Errorf("tier=paid by 10: %d pages, want 10+10+3", len(ps))
			}
			all := pages[memberJSON](t, ts, members+"?limit=100", admin)
			if len(all[0]) != 28 {
				t.Errorf("all tiers: %d members, want 28 (23 paid + 5 free; solo@ is paid on the other plan)", len(all[0]))
			}
		})

		cursor := base64.RawURLEncoding.EncodeToString([]byte("user10@acme.test"))
		run(t, ts.e, []scenario{
			{name: "after a cursor", path: members + "?limit=2&after=" + cursor, headers: admin, status: http.StatusOK,
				contains: []string{`"email":"user11@acme.test"`, `"email":"user12@acme.test"`}, excludes: []string{"user10@", "user13@"}},
			{name: "invalid tier", path: members + "?tier=gold", headers: admin, status: http.StatusBadRequest, code: "invalid_tier"},
			{name: "limit zero", path: members + "?limit=0", headers: admin, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "limit over 100", path: members + "?limit=101", headers: admin, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "limit not a number", path: members + "?limit=ten", headers: admin, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "limit negative", path: members + "?limit=-1", headers: admin, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "cursor not base64", path: members + "?after=***", headers: admin, status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "cursor too long", path: members + "?after=" + strings.Repeat("A", 1000), headers: admin, status: http.StatusBadRequest,
				code: "invalid_cursor"},
		})
	})
}

func TestAuditAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		admin := asAdmin(t, adminEmail)
		members := "/api/v1/plans/" + planID + "/members"
		audit := "/api/v1/plans/" + planID + "/audit"

		empty := decode[listJSON[auditJSON]](t, scenario{path: audit, headers: admin, status: http.StatusOK}.do(t, ts.e))
		if empty.Data == nil || len(empty.Data) != 0 || empty.ListMetadata.After != nil {
			t.Errorf("audit of a new plan = %+v, want an empty list", empty)
		}

		// 15 seats added by the admin, 3 removed, then one added by the service.
		var wantEmails []string
		for i := range 15 {
			e := fmt.Sprintf("a%02d@acme.test", i)
			scenario{method: http.MethodPost, path: members, headers: admin, body: `{"email":"` + e + `"}`, status: http.StatusCreated}.do(t, ts.e)
			wantEmails = append(wantEmails, "manual_seat_added "+e)
		}
		scenario{method: http.MethodPost, path: members, headers: admin, body: `{"email":"a03@acme.test"}`, status: http.StatusCreated}.do(t, ts.e)
		for _, i := range []int{2, 4, 6} {
			e := fmt.Sprintf("a%02d@acme.test", i)
			scenario{method: http.MethodDelete, path: members + "/" + e, headers: admin, status: http.StatusNoContent}.do(t, ts.e)
			wantEmails = append(wantEmails, "manual_seat_removed "+e)
		}
		scenario{method: http.MethodPost, path: members, headers: asService(t), body: `{"email":"svc@acme.test"}`, status: http.StatusCreated}.do(t, ts.e)
		wantEmails = append(wantEmails, "manual_seat_added svc@acme.test")

		ps := pages[auditJSON](t, ts, audit+"?limit=10", admin)
		if len(ps) != 2 || len(ps[0]) != 10 || len(ps[1]) != 9 {
			t.Fatalf("audit pages: %d, want 10 + 9 entries", len(ps))
		}
		var got []auditJSON
		for _, p := range ps {
			got = append(got, p...)
		}
		for i, e := range got {
			if w := wantEmails[len(wantEmails)-1-i]; e.Action+" "+e.MemberEmail != w {
				t.Errorf("entry %d = %s %s, want %s (newest first)", i, e.Action, e.MemberEmail, w)
			}
			if i > 0 && e.ID >= got[i-1].ID {
				t.Errorf("entry %d: id %d not below %d", i, e.ID, got[i-1].ID)
			}
			if e.At.IsZero() || e.Reason == "" {
				t.Errorf("entry %d: %+v, want a time and a reason", i, e)
			}
			want := "admin:" + adminEmail
			if e.MemberEmail == "svc@acme.test" {
				want = "service"
			}
			if e.Actor != want {
				t.Errorf("entry %d: actor %q, want %q", i, e.Actor, want)
			}
		}

		run(t, ts.e, []scenario{
			{name: "default limit", path: audit, headers: admin, status: http.StatusOK, contains: []string{`"member_email":"svc@acme.test"`}},
			{name: "other plan's audit is separate", path: "/api/v1/plans/" + otherPlan + "/audit", headers: asAdmin(t, otherAdmin),
				status: http.StatusOK, contains: []string{`"data":[]`, `"after":null`}},
			{name: "cursor not base64", path: audit + "?after=!!!", headers: admin, status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "cursor not a position", path: audit + "?after=" + base64.RawURLEncoding.EncodeToString([]byte("abc")), headers: admin,
				status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "cursor zero", path: audit + "?after=" + base64.RawURLEncoding.EncodeToString([]byte("0")), headers: admin,
				status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "limit zero", path: audit + "?limit=0", headers: admin, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "limit too big", path: audit + "?limit=1000", headers: admin, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "no token", path: audit, status: http.StatusUnauthorized, code: "missing_token"},
		})
	})
}
