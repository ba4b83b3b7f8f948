package server_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the snapshot's own connection to Postgres
	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// The hostile-input matrix (reliability issue, item 3): one table of requests
// an attacker or a broken client could send to every surface — the WorkOS
// webhook, the stub SAML endpoint, the admin API, the browser forms — and of
// configurations the CLI could be started with. Every case is a refusal (or a
// harmless redirect or duplicate), and for each the test checks the status
// and error code, that no case panics (the recover middleware would answer
// 500), that the database is exactly as before (a dump of every table), and
// that the log, captured as JSON, holds every line as valid JSON, no raw
// control character, and none of the secrets, tokens, signatures, cookies or
// CSRF tokens the test used.

const (
	hOrg         = "hostile_org"
	hPlanA       = "plan_a"
	hPlanB       = "plan_b"
	hAdminA      = "a@hostile.test"
	hAdminB      = "b@hostile.test"
	hSeat        = "seat@hostile.test"
	hService     = "billing@hostile.test"
	hJWTSecret   = "hostile-jwt-secret-3c1f9e0a7b5d42e8a6f0c9d1"
	hHookSecret  = "whsec_hostile_5e2d8c1a9f7b4036c2d1e9"
	hAudience    = "seatsync-api"
	hLoginURL    = "https://login.hostile.test/signin"
	hStoredEvent = "event_hostile_stored_1"
	hHookMax     = webhooks.DefaultMaxBody
	hFormMax     = 1 << 20
)

// hostileCase is one row of the matrix. Exactly one of the request fields
// (method/path…), raw or cfg says what is sent.
type hostileCase struct {
	name string

	// An HTTP request served by the Echo handler…
	method, path string
	header       http.Header
	body         []byte
	prepare      func(*http.Request)
	// …or bytes written as they are to a real HTTP server configured like
	// `seatsync serve`, for what net/http itself decides (header limits, a
	// Content-Length that lies, request lines no client library would send)…
	raw []byte
	// …or a configuration loaded the way the CLI loads it.
	cfg *hostileConfig

	status   int
	code     string // the error code of a JSON error answer; "" = not checked
	location string // the exact Location of a redirect; "" = not checked
	contains string // a string the answer's body must contain; "" = not checked
}

// containing returns tc with a string its answer must contain.
func (tc hostileCase) containing(s string) hostileCase {
	tc.contains = s
	return tc
}

// hostileConfig is a YAML file ("" = none) and an environment for config.LoadFrom.
type hostileConfig struct {
	yaml string
	env  []string
	// want are substrings the error must contain: the key it names.
	want []string
	// secrets must not appear in the error.
	secrets []string
}

func TestHostileInputs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		env := newHostileEnv(t, dialect)
		cases := env.cases(t)
		if len(cases) < 60 {
			t.Fatalf("%d cases, want at least 60", len(cases))
		}
		seen := map[string]bool{}
		for _, tc := range cases {
			if seen[tc.name] {
				t.Fatalf("two cases are named %q", tc.name)
			}
			seen[tc.name] = true
			t.Run(tc.name, func(t *testing.T) { env.run(t, tc) })
		}
		env.checkLog(t, env.logs.String())
	})
}

// hostileEnv is a server over a real store with a snapshot connection of its
// own, the real HTTP server for raw cases, and the captured log.
type hostileEnv struct {
	dialect string
	e       *echo.Echo
	srv     *httptest.Server
	db      *sql.DB
	tables  []string
	last    map[string][]string // the snapshot after the last case
	logs    *hostileLog

	mu      sync.Mutex
	secrets map[string]string // value → what it is, for the failure message
}

func newHostileEnv(t *testing.T, dialect string) *hostileEnv {
	t.Helper()
	env := &hostileEnv{dialect: dialect, logs: &hostileLog{}, secrets: map[string]string{}}
	env.secret(hJWTSecret, "JWT secret")
	env.secret(hHookSecret, "webhook secret")

	log := slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := storetest.Options(t, dialect)
	opts.Log = log
	st := storetest.OpenWith(t, opts)
	env.db = openSnapshotDB(t, opts)

	av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: hJWTSecret, Audience: hAudience, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hv, err := webhooks.NewVerifier([]string{hHookSecret}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	app := applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour, Log: log})
	env.e = server.New(server.Deps{
		Store: st, Applier: app, Webhooks: webhooks.NewHandler(hv, st, hHookMax, log), Auth: av, Rules: rules,
		Log: log, SAMLLoginURL: hLoginURL, MaxFormBody: hFormMax, SessionSecret: hJWTSecret,
	})
	// The real server has the limits cmd/seatsync/serve.go sets.
	env.srv = httptest.NewUnstartedServer(env.e)
	env.srv.Config.MaxHeaderBytes = 64 << 10
	env.srv.Config.ReadHeaderTimeout = 10 * time.Second
	env.srv.Start()
	t.Cleanup(env.srv.Close)

	env.seed(t)
	env.tables = env.listTables(t)
	for _, want := range []string{"organizations", "plans", "plan_admins", "members", "directories", "directory_users",
		"inbox_events", "audit_entries"} {
		if !slices.Contains(env.tables, want) {
			t.Fatalf("table %s is not in the snapshot's list %v", want, env.tables)
		}
	}
	return env
}

// seed makes, through the API, the organization with plan_a (admin a@, manual
// mode, one manual seat) and plan_b (admin b@), and stores one webhook event.
func (env *hostileEnv) seed(t *testing.T) {
	t.Helper()
	now := time.Now()
	svc := env.bearer(env.mint(t, hService, true, now, time.Hour, hAudience))
	steps := []hostileCase{
		{method: http.MethodPut, path: "/api/v1/organizations/" + hOrg, header: svc,
			body: []byte(`{"name":"Hostile","domains":["hostile.test"]}`), status: http.StatusOK},
		{method: http.MethodPut, path: "/api/v1/plans/" + hPlanA, header: svc,
			body: []byte(`{"organization_id":"` + hOrg + `","name":"A","admins":["` + hAdminA + `"]}`), status: http.StatusCreated},
		{method: http.MethodPut, path: "/api/v1/plans/" + hPlanB, header: svc,
			body: []byte(`{"organization_id":"` + hOrg + `","name":"B","admins":["` + hAdminB + `"]}`), status: http.StatusCreated},
		{method: http.MethodPost, path: "/api/v1/plans/" + hPlanA + "/members",
			header: env.bearer(env.mint(t, hAdminA, false, now, time.Hour, hAudience)),
			body:   []byte(`{"email":"` + hSeat + `","name":"Seat Holder"}`), status: http.StatusCreated},
	}
	stored := env.storedEvent()
	steps = append(steps, hostileCase{method: http.MethodPost, path: hookPath, header: env.signed(stored, now),
		body: stored, status: http.StatusOK})
	for _, sc := range steps {
		if status, _, body := env.serve(t, sc); status != sc.status {
			t.Fatalf("seed %s %s = %d, want %d: %s", sc.method, sc.path, status, sc.status, body)
		}
	}
}

// storedEvent is the body of the event seed stores.
func (env *hostileEnv) storedEvent() []byte {
	return []byte(eventBody(hStoredEvent, "dsync.user.created", map[string]any{"object": "directory_user",
		"id": "directory_user_h1", "directory_id": "directory_h", "organization_id": "org_HOSTILE", "email": "u1@hostile.test",
		"state": "active", "created_at": t0.Format(time.RFC3339Nano), "updated_at": t0.Format(time.RFC3339Nano)}))
}

// run runs one case and checks everything the matrix promises.
func (env *hostileEnv) run(t *testing.T, tc hostileCase) {
	if tc.cfg != nil {
		env.runConfig(t, tc)
		return
	}
	// Nothing runs between cases (no applier loop, no poller), so the
	// snapshot after the last case is the one before this one.
	before := env.last
	if before == nil {
		before = env.snapshot(t)
	}
	mark := env.logs.Len()

	var (
		status int
		header http.Header
		body   []byte
	)
	if tc.raw != nil {
		status, header, body = env.sendRaw(t, tc.raw)
	} else {
		status, header, body = env.serve(t, tc)
	}
	if status == http.StatusInternalServerError {
		t.Errorf("status 500 (a panic or an unhandled error); body: %.300s", body)
	} else if status != tc.status {
		t.Errorf("status = %d, want %d; body: %.300s", status, tc.status, body)
	}
	if tc.code != "" {
		if got := hostileErrorCode(body); got != tc.code {
			t.Errorf("error code = %q, want %q; body: %.300s", got, tc.code, body)
		}
	}
	if tc.location != "" {
		if got := header.Get(echo.HeaderLocation); got != tc.location {
			t.Errorf("Location = %q, want %q", got, tc.location)
		}
	}
	if tc.contains != "" && !bytes.Contains(body, []byte(tc.contains)) {
		t.Errorf("body does not contain %q: %.300s", tc.contains, body)
	}
	env.noSecrets(t, "the response", fmt.Sprint(header)+string(body))

	env.last = env.snapshot(t)
	if !snapshotsEqual(t, before, env.last) {
		t.Error("the database changed")
	}
	env.checkLog(t, env.logs.Since(mark))
}

// serve sends tc's request to the Echo handler.
func (env *hostileEnv) serve(t *testing.T, tc hostileCase) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if tc.body != nil {
		body = bytes.NewReader(tc.body)
	}
	req := httptest.NewRequestWithContext(t.Context(), tc.method, tc.path, body)
	if tc.body != nil && tc.header.Get(echo.HeaderContentType) == "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for k, vs := range tc.header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if tc.prepare != nil {
		tc.prepare(req)
	}
	rec := httptest.NewRecorder()
	env.e.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// sendRaw writes raw to the real server and reads the first answer.
func (env *hostileEnv) sendRaw(t *testing.T, raw []byte) (int, http.Header, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", env.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = conn.Write(raw) // the server may stop reading early (431): its answer is what counts
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// runConfig loads tc.cfg and checks that it fails, naming the key, without
// panicking, quickly, and without echoing a secret or a raw control character.
func (env *hostileEnv) runConfig(t *testing.T, tc hostileCase) {
	path := ""
	if tc.cfg.yaml != "" {
		path = filepath.Join(t.TempDir(), "seatsync.yaml")
		if err := os.WriteFile(path, []byte(tc.cfg.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var (
		c   *config.Config
		err error
	)
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("config.LoadFrom panicked: %v", p)
			}
		}()
		c, err = config.LoadFrom(path, tc.cfg.env)
	}()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("config.LoadFrom took %v", d)
	}
	if err == nil {
		t.Fatalf("config.LoadFrom = %v, want an error", c)
	}
	msg := err.Error()
	for _, want := range tc.cfg.want {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
	for _, s := range tc.cfg.secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error contains the secret %q:\n%s", s, msg)
		}
	}
	// errors.Join puts one problem per line, and the YAML parser indents
	// its details under its own; an input must not add lines of its own or
	// smuggle control characters into the message.
	var injected []string
	for _, kv := range tc.cfg.env {
		if i := strings.IndexAny(kv, "\r\n"); i >= 0 {
			injected = append(injected, strings.TrimLeft(kv[i:], "\r\n"))
		}
	}
	for line := range strings.SplitSeq(msg, "\n") {
		if !strings.HasPrefix(line, "config: ") && !strings.HasPrefix(line, " ") {
			t.Errorf("error line %q neither starts with \"config: \" nor continues the line before", line)
		}
		if i := strings.IndexFunc(line, unicode.IsControl); i >= 0 {
			t.Errorf("error line %q has a control character at byte %d", line, i)
		}
		for _, in := range injected {
			if strings.HasPrefix(strings.TrimSpace(line), in) {
				t.Errorf("error line %q was injected by the environment", line)
			}
		}
	}
	// A 5000-deep key path is named in full; the bound is only against
	// echoing whole documents.
	if len(msg) > 64<<10 {
		t.Errorf("error is %d bytes long", len(msg))
	}
}

// --- the cases ---

func (env *hostileEnv) cases(t *testing.T) []hostileCase {
	var cs []hostileCase
	cs = append(cs, env.webhookCases(t)...)
	cs = append(cs, env.samlCases(t)...)
	cs = append(cs, env.authCases(t)...)
	cs = append(cs, env.apiCases(t)...)
	cs = append(cs, env.formCases(t)...)
	cs = append(cs, env.rawCases(t)...)
	cs = append(cs, configCases()...)
	return cs
}

func (env *hostileEnv) webhookCases(t *testing.T) []hostileCase {
	now := time.Now()
	good := []byte(eventBody("event_hostile_new_1", "dsync.user.created", map[string]any{"object": "directory_user",
		"id": "directory_user_h2", "directory_id": "directory_h", "organization_id": "org_HOSTILE", "email": "u2@hostile.test",
		"state": "active"}))
	stored := env.storedEvent()
	genuine := env.signature(good, hHookSecret, strconv.FormatInt(now.UnixMilli(), 10))
	v1 := genuine[strings.Index(genuine, "v1=")+3:]

	// signed is a genuine signature of body, whatever body is.
	signed := func(body []byte) http.Header { return env.signed(body, now) }
	// hook posts body with the signature header hdr; nil means a genuine one.
	hook := func(name string, hdr http.Header, body []byte, status int, code string) hostileCase {
		if hdr == nil {
			hdr = signed(body)
		}
		return hostileCase{name: "webhook/" + name, method: http.MethodPost, path: hookPath, header: hdr, body: body,
			status: status, code: code}
	}
	sig := func(v string) http.Header {
		h := http.Header{}
		h.Set(webhooks.SignatureHeader, v)
		return h
	}
	withSig := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	const (
		missing   = webhooks.CodeSignatureMissing
		malformed = webhooks.CodeSignatureMalformed
		stale     = webhooks.CodeSignatureStale
		mismatch  = webhooks.CodeSignatureMismatch
		envelope  = webhooks.CodeInvalidEnvelope
	)
	unauthorized, bad := http.StatusUnauthorized, http.StatusBadRequest

	over := append([]byte(`{"id":"event_big","event":"dsync.user.created","data":{"pad":"`),
		bytes.Repeat([]byte("x"), hHookMax)...)
	over = append(over, `"}}`...)
	over = over[:hHookMax+1] // 1 MiB + 1 byte, signed
	huge := []byte(`{"id":"event_` + strings.Repeat("a", 900<<10) + `","event":"dsync.user.created"}`)
	nestedArrays := bytes.Repeat([]byte("["), 100_000)
	nestedData := []byte(`{"id":"event_nested","event":"dsync.user.created","data":` + strings.Repeat(`{"a":`, 100_000) + "1" +
		strings.Repeat("}", 100_000) + "}")
	secs := strconv.FormatInt(now.Unix(), 10)
	gz := gzipBomb()
	deflated := deflateBomb()
	injected := []byte(`{"id":"event_x\n{\"level\":\"ERROR\",\"msg\":\"INJECTED\"}","event":"dsync.user.created"}`)

	return []hostileCase{
		hook("no signature header", http.Header{}, good, unauthorized, missing),
		hook("empty signature header", sig(""), good, unauthorized, missing),
		hook("blank signature header", sig(" \t "), good, unauthorized, missing),
		hook("t only", sig("t="+strconv.FormatInt(now.UnixMilli(), 10)), good, unauthorized, malformed),
		hook("v1 only", sig("v1="+v1), good, unauthorized, malformed),
		hook("garbage header", sig("sha256=deadbeef; not a signature"), good, unauthorized, malformed),
		hook("10 KiB header around a genuine signature", sig(genuine+", x="+strings.Repeat("A", 10<<10)), good,
			unauthorized, malformed),
		hook("unicode digits in t", sig("t=１７４２８８９８３５３９１, v1="+v1), good, unauthorized, malformed),
		hook("NUL in the header", sig("t=1\x00, v1="+v1), good, unauthorized, malformed),
		hook("negative t", sig("t=-1, v1="+v1), good, unauthorized, malformed),
		hook("t of 20 digits", sig("t=99999999999999999999, v1="+v1), good, unauthorized, malformed),
		hook("two t", sig(genuine+", t=1"), good, unauthorized, malformed),
		{name: "webhook/signature header twice", method: http.MethodPost, path: hookPath, body: good,
			header: http.Header{webhooks.SignatureHeader: {genuine, genuine}}, status: unauthorized, code: malformed},
		hook("signed with another secret", env.signedWith(good, "whsec_someone_else_0123456789abcdef", now), good,
			unauthorized, mismatch),
		hook("replay older than the tolerance", env.signed(good, now.Add(-6*time.Minute)), good, unauthorized, stale),
		hook("replay of the stored event an hour later", env.signed(stored, now.Add(-time.Hour)), stored, unauthorized, stale),
		hook("far-future t", env.signed(good, now.AddDate(1, 0, 0)), good, unauthorized, stale),
		hook("t in seconds", sig(env.signature(good, hHookSecret, secs)), good, unauthorized, stale),
		hook("t at the int64 limit", sig(env.signature(good, hHookSecret, "9223372036854775807")), good, unauthorized, stale),
		hook("stale signature with t moved to now", sig("t="+strconv.FormatInt(now.UnixMilli(), 10)+", v1="+
			v1Of(env.signed(good, now.Add(-time.Hour)).Get(webhooks.SignatureHeader))), good, unauthorized, mismatch),
		hook("genuine signature over another body", sig(genuine), stored, unauthorized, mismatch),
		hook("genuine signature, body with a trailing newline", sig(genuine), append(slices.Clip(good), '\n'), unauthorized, mismatch),
		hook("body of 1 MiB + 1", signed(over), over, http.StatusRequestEntityTooLarge, webhooks.CodeBodyTooLarge),
		{name: "webhook/chunked body of 1 MiB + 1", method: http.MethodPost, path: hookPath, header: signed(over), body: over,
			prepare: chunked, status: http.StatusRequestEntityTooLarge, code: webhooks.CodeBodyTooLarge},
		{name: "webhook/Content-Length over the limit", method: http.MethodPost, path: hookPath, header: sig(genuine), body: good,
			prepare: func(r *http.Request) { r.ContentLength = hHookMax + 1 }, status: http.StatusRequestEntityTooLarge,
			code: webhooks.CodeBodyTooLarge},
		hook("gzip bomb with a genuine signature", withSig(signed(gz), "Content-Encoding", "gzip"), gz, bad,
			webhooks.CodeUnsupportedEncoding),
		hook("deflate bomb", withSig(signed(deflated), "Content-Encoding", "deflate"), deflated, bad,
			webhooks.CodeUnsupportedEncoding),
		hook("gzip hidden behind identity", withSig(signed(gz), "Content-Encoding", "identity, gzip"), gz, bad,
			webhooks.CodeUnsupportedEncoding),
		hook("invalid UTF-8 with a genuine signature", nil, []byte("{\"id\":\"event_\xff\xfe\",\"event\":\"dsync.user.created\"}"),
			bad, envelope),
		hook("empty body", nil, []byte{}, bad, envelope),
		hook("JSON array", nil, []byte(`[{"id":"event_a","event":"dsync.user.created"}]`), bad, envelope),
		hook("JSON null", nil, []byte(`null`), bad, envelope),
		hook("byte-order mark", nil, []byte("\ufeff{\"id\":\"event_bom\",\"event\":\"dsync.user.created\"}"), bad, envelope),
		hook("100k nested arrays", nil, nestedArrays, bad, envelope),
		hook("100k nested objects in data", nil, nestedData, bad, envelope),
		hook("900 KiB id", nil, huge, bad, envelope),
		hook("duplicate id, the last one empty", nil, []byte(`{"id":"event_dupkey","id":"","event":"dsync.user.created"}`),
			bad, envelope),
		hook("duplicate id, the last one the stored event", nil,
			[]byte(`{"id":"event_other","id":"`+hStoredEvent+`","event":"dsync.user.created","data":{}}`), http.StatusOK, "").
			containing(`{"status":"duplicate"}`),
		hook("id of the wrong type", nil, []byte(`{"id":5,"event":"dsync.user.created"}`), bad, envelope),
		hook("event of the wrong type", nil, []byte(`{"id":"event_t","event":["dsync.user.created"]}`), bad, envelope),
		hook("data of the wrong type", nil, []byte(`{"id":"event_t","event":"dsync.user.created","data":"x"}`), bad, envelope),
		hook("created_at of the wrong type", nil, []byte(`{"id":"event_t","event":"dsync.user.created","created_at":1}`), bad, envelope),
		hook("null id", nil, []byte(`{"id":null,"event":"dsync.user.created"}`), bad, envelope),
		hook("missing event", nil, []byte(`{"id":"event_noevent","data":{}}`), bad, envelope),
		hook("log line injected in the id", nil, injected, bad, envelope),
		hook("terminal escape in the event type", nil, []byte(`{"id":"event_esc","event":"dsync.user.created\u001b[2J"}`), bad, envelope),
		hook("SQL in the id", nil, []byte(`{"id":"event_'; DROP TABLE inbox_events;--","event":"dsync.user.created"}`), bad, envelope),
		hook("duplicate delivery of the stored event", nil, stored, http.StatusOK, "").containing(`{"status":"duplicate"}`),
		{name: "webhook/GET", method: http.MethodGet, path: hookPath, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
}

// v1Of returns the v1 value of a signature header.
func v1Of(h string) string { return h[strings.Index(h, "v1=")+3:] }

func (env *hostileEnv) samlCases(t *testing.T) []hostileCase {
	form := http.Header{echo.HeaderContentType: {echo.MIMEApplicationForm}}
	get := func(name, relay string) hostileCase {
		return hostileCase{name: "saml/" + name, method: http.MethodGet,
			path: ssoPath + "?RelayState=" + url.QueryEscape(relay), status: http.StatusSeeOther, location: hLoginURL}
	}
	post := func(name, relay string) hostileCase {
		return hostileCase{name: "saml/POST " + name, method: http.MethodPost, path: ssoPath, header: form,
			body:   []byte("SAMLResponse=PHNhbWxwOlJlc3BvbnNl&RelayState=" + url.QueryEscape(relay)),
			status: http.StatusSeeOther, location: hLoginURL}
	}
	over := []byte("SAMLResponse=" + strings.Repeat("A", hFormMax+1-len("SAMLResponse=")))
	gz := gzipBomb()
	return []hostileCase{
		get("absolute URL", "https://evil.test/"),
		get("scheme-relative", "//evil.test/x"),
		get("backslash", `/\evil.test`),
		get("javascript:", "javascript:alert(document.cookie)"),
		get("percent-encoded slashes", "/%2F%2Fevil.test"),
		get("double-encoded slashes", "/%252F%252Fevil.test"),
		get("userinfo", "https://login.hostile.test@evil.test/"),
		get("login host as userinfo of a relative-looking path", "//login.hostile.test@evil.test"),
		get("CRLF header injection", "/x\r\nSet-Cookie: a=b"),
		get("tab-split scheme", "/\t/evil.test"),
		post("scheme-relative", "//evil.test"),
		post("data: URL", "data:text/html,<script>alert(1)</script>"),
		{name: "saml/two RelayStates", method: http.MethodGet, path: ssoPath + "?RelayState=/a&RelayState=//evil.test",
			status: http.StatusSeeOther, location: hLoginURL},
		{name: "saml/POST of 1 MiB + 1", method: http.MethodPost, path: ssoPath, header: form, body: over,
			status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
		{name: "saml/gzip bomb", method: http.MethodPost, path: ssoPath,
			header: http.Header{echo.HeaderContentType: {echo.MIMEApplicationForm}, "Content-Encoding": {"gzip"}}, body: gz,
			status: http.StatusSeeOther, location: hLoginURL},
	}
}

func (env *hostileEnv) authCases(t *testing.T) []hostileCase {
	now := time.Now()
	path := "/api/v1/plans/" + hPlanA
	claims := jwt.MapClaims{"sub": hAdminA, "aud": hAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	svcClaims := jwt.MapClaims{"sub": hService, "aud": hAudience, "scope": "service", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	rs256 := env.token(t, jwt.NewWithClaims(jwt.SigningMethodRS256, claims), key)
	confused := env.token(t, jwt.NewWithClaims(jwt.SigningMethodHS256, claims), pubPEM)
	hs512 := env.token(t, jwt.NewWithClaims(jwt.SigningMethodHS512, claims), []byte(hJWTSecret))
	withHook := env.token(t, jwt.NewWithClaims(jwt.SigningMethodHS256, svcClaims), []byte(hHookSecret))
	notBefore := env.token(t, jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": hAdminA, "aud": hAudience,
		"iat": now.Unix(), "nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}), []byte(hJWTSecret))
	fat := env.token(t, jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": hAdminA, "aud": hAudience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "pad": strings.Repeat("p", 9<<10)}), []byte(hJWTSecret))
	none := env.unsignedToken(claims)
	noneSvc := env.unsignedToken(svcClaims)

	admin := env.mint(t, hAdminA, false, now, time.Hour, hAudience)
	adminB := env.mint(t, hAdminB, false, now, time.Hour, hAudience)
	expired := env.mint(t, hAdminA, false, now.Add(-3*time.Hour), time.Hour, hAudience)
	future := env.mint(t, hAdminA, false, now.Add(time.Hour), time.Hour, hAudience)
	wrongAud := env.mint(t, hAdminA, false, now, time.Hour, "another-api")
	noAud := env.mint(t, hAdminA, false, now, time.Hour, "")
	otherSecret := env.mintWith(t, "another-secret-of-at-least-32-bytes-0000", hService, true, now, time.Hour, hAudience)

	invalid := func(name, tok string) hostileCase {
		return hostileCase{name: "auth/" + name, method: http.MethodGet, path: path, header: env.bearer(tok),
			status: http.StatusUnauthorized, code: "invalid_token"}
	}
	return []hostileCase{
		{name: "auth/no token", method: http.MethodGet, path: path, status: http.StatusUnauthorized, code: "missing_token"},
		{name: "auth/Basic credentials", method: http.MethodGet, path: path,
			header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(hAdminA+":"+hJWTSecret))}},
			status: http.StatusUnauthorized, code: "missing_token"},
		invalid("alg none", none),
		{name: "auth/alg none with service scope on a service route", method: http.MethodPut, path: "/api/v1/organizations/" + hOrg,
			header: env.bearer(noneSvc), body: []byte(`{"name":"Pwned"}`), status: http.StatusUnauthorized, code: "invalid_token"},
		invalid("RS256 with a key nobody configured", rs256),
		invalid("HS256 keyed with an RSA public key (HS/RS confusion)", confused),
		invalid("HS512 with the right secret", hs512),
		invalid("signed with the webhook secret", withHook),
		invalid("signed with another secret, service scope", otherSecret),
		invalid("expired", expired),
		invalid("issued in the future", future),
		invalid("not valid before an hour from now", notBefore),
		invalid("wrong audience", wrongAud),
		invalid("no audience", noAud),
		invalid("over 8 KiB", fat),
		invalid("garbage", "eyJhbGciOiJIUzI1NiJ9.e30.x'--"),
		{name: "auth/token with trailing junk", method: http.MethodGet, path: path,
			header: http.Header{"Authorization": {"Bearer " + admin + " junk"}}, status: http.StatusUnauthorized, code: "invalid_token"},
		{name: "auth/two Authorization headers", method: http.MethodGet, path: path,
			header: http.Header{"Authorization": {"Bearer " + admin, "Bearer " + adminB}}, status: http.StatusUnauthorized,
			code: "invalid_token"},
		{name: "auth/another plan's admin reads the plan", method: http.MethodGet, path: path, header: env.bearer(adminB),
			status: http.StatusNotFound, code: "plan_not_found"},
		{name: "auth/another plan's admin removes its seat", method: http.MethodDelete, path: path + "/members/" + hSeat,
			header: env.bearer(adminB), status: http.StatusNotFound, code: "plan_not_found"},
		{name: "auth/admin adds a seat to another plan", method: http.MethodPost, path: "/api/v1/plans/" + hPlanB + "/members",
			header: env.bearer(admin), body: []byte(`{"email":"new@hostile.test","name":"New"}`), status: http.StatusNotFound,
			code: "plan_not_found"},
		{name: "auth/another plan's admin asks for its portal link", method: http.MethodPost, path: path + "/scim/portal-link",
			header: env.bearer(adminB), status: http.StatusNotFound, code: "plan_not_found"},
		{name: "auth/admin token on a service route (organization)", method: http.MethodPut, path: "/api/v1/organizations/" + hOrg,
			header: env.bearer(admin), body: []byte(`{"name":"Pwned","domains":[]}`), status: http.StatusForbidden, code: "forbidden"},
		{name: "auth/admin token on a service route (plan)", method: http.MethodPut, path: path, header: env.bearer(admin),
			body:   []byte(`{"organization_id":"` + hOrg + `","name":"A","admins":["` + hAdminA + `","mallory@evil.test"]}`),
			status: http.StatusForbidden, code: "forbidden"},
	}
}

func (env *hostileEnv) apiCases(t *testing.T) []hostileCase {
	now := time.Now()
	admin := env.bearer(env.mint(t, hAdminA, false, now, time.Hour, hAudience))
	svc := env.bearer(env.mint(t, hService, true, now, time.Hour, hAudience))
	plan := "/api/v1/plans/" + hPlanA
	members := plan + "/members"

	add := func(name, body string, status int, code string) hostileCase {
		return hostileCase{name: "api/POST members: " + name, method: http.MethodPost, path: members, header: admin,
			body: []byte(body), status: status, code: code}
	}
	del := func(name, escapedEmail string, status int, code string) hostileCase {
		return hostileCase{name: "api/DELETE member: " + name, method: http.MethodDelete, path: members + "/" + escapedEmail,
			header: admin, status: status, code: code}
	}
	get := func(name, path string, status int, code string) hostileCase {
		return hostileCase{name: "api/GET " + name, method: http.MethodGet, path: path, header: admin, status: status, code: code}
	}
	putPlan := func(name, id, body string, status int, code string) hostileCase {
		return hostileCase{name: "api/PUT plan: " + name, method: http.MethodPut, path: "/api/v1/plans/" + id, header: svc,
			body: []byte(body), status: status, code: code}
	}
	planBody := func(extra string) string {
		return `{"organization_id":"` + hOrg + `","name":"A","admins":["` + hAdminA + `"]` + extra + `}`
	}
	bad, tooLarge := http.StatusBadRequest, http.StatusRequestEntityTooLarge
	cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	big := `{"email":"new@hostile.test","name":"` + strings.Repeat("n", 70<<10) + `"}`

	return []hostileCase{
		// SQL metacharacters: refused by validation, or harmless parameters.
		get("plan id with SQL", "/api/v1/plans/"+url.PathEscape("plan'; DROP TABLE members;--"), http.StatusNotFound, "plan_not_found"),
		putPlan("id with SQL", url.PathEscape("plan_c'; DROP TABLE plans;--"), planBody(""), bad, "invalid_id"),
		{name: "api/PUT organization: id with SQL", method: http.MethodPut,
			path: "/api/v1/organizations/" + url.PathEscape("x' OR '1'='1"), header: svc, body: []byte(`{"name":"X"}`),
			status: bad, code: "invalid_id"},
		{name: "api/PUT organization: domain with SQL", method: http.MethodPut, path: "/api/v1/organizations/" + hOrg, header: svc,
			body: []byte(`{"name":"Hostile","domains":["hostile.test'); DROP TABLE organizations;--"]}`), status: bad,
			code: "invalid_domain"},
		{name: "api/PUT organization: name with NUL", method: http.MethodPut, path: "/api/v1/organizations/" + hOrg, header: svc,
			body: []byte(`{"name":"Hos\u0000tile","domains":["hostile.test"]}`), status: bad, code: "invalid_name"},
		get("members with SQL in tier", members+"?tier="+url.QueryEscape("paid' OR 1=1--"), bad, "invalid_tier"),
		del("email with SQL quotes (no such seat)", url.PathEscape("x'OR'1'='1@hostile.test"), http.StatusNotFound, "member_not_found"),
		add("email with SQL", `{"email":"'; DROP TABLE members;--@hostile.test","name":"X"}`, bad, "invalid_email"),

		// Path traversal and encoded slashes.
		del("../ encoded", "..%2F..%2F"+hPlanB, bad, "invalid_email"),
		del("%2e%2e", "%2e%2e", bad, "invalid_email"),
		del("double-encoded ..", "%252e%252e%252f", bad, "invalid_email"),
		del("encoded slash in the local part", "seat%2F@hostile.test", bad, "invalid_email"),
		del("encoded slashes after the email", url.PathEscape(hSeat)+"%2F..%2F..%2F"+hPlanB, bad, "invalid_email"),
		del("encoded backslash", "seat%5C@hostile.test", bad, "invalid_email"),
		del("encoded NUL", "seat%00@hostile.test", bad, "invalid_email"),
		del("encoded CRLF", "seat%0D%0Ax@hostile.test", bad, "invalid_email"),
		del("invalid UTF-8 (no such seat)", "%FF%FE@hostile.test", http.StatusNotFound, "member_not_found"),
		get("plan_a/../plan_b", plan+"/../"+hPlanB, http.StatusNotFound, "not_found"),
		get("%2e%2e%2f in the plan id", "/api/v1/plans/%2e%2e%2f"+hPlanB, http.StatusNotFound, "plan_not_found"),
		get("plan id with NUL", "/api/v1/plans/plan%00a", http.StatusNotFound, "plan_not_found"),

		// Emails and names that would inject log lines or break keys.
		add("CRLF in the email", `{"email":"x\r\ny@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("NUL in the email", `{"email":"x\u0000y@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("escape sequence in the email", `{"email":"x\u001b[2Jy@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("NEL (U+0085) in the email", `{"email":"x\u0085y@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("line separator (U+2028) in the email", `{"email":"x\u2028y@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("no-break space in the email", `{"email":"x\u00a0y@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("email of 10 KiB", `{"email":"`+strings.Repeat("a", 10<<10)+`@hostile.test","name":"X"}`, bad, "invalid_email"),
		add("newline in the name", `{"email":"new@hostile.test","name":"Eve\n{\"level\":\"ERROR\",\"msg\":\"INJECTED\"}"}`,
			bad, "invalid_name"),
		add("CR in the name", `{"email":"new@hostile.test","name":"Eve\rINJECTED"}`, bad, "invalid_name"),
		add("NEL (U+0085) in the name", `{"email":"new@hostile.test","name":"Eve\u0085INJECTED"}`, bad, "invalid_name"),
		add("line separator (U+2028) in the name", `{"email":"new@hostile.test","name":"Eve\u2028INJECTED"}`, bad, "invalid_name"),
		add("name of 10 KiB", `{"email":"new@hostile.test","name":"`+strings.Repeat("n", 10<<10)+`"}`, bad, "invalid_name"),

		// Malformed JSON bodies.
		add("invalid UTF-8", "{\"email\":\"new\xff@hostile.test\",\"name\":\"X\"}", bad, "invalid_json"),
		add("unknown field", `{"email":"new@hostile.test","name":"X","tier":"paid"}`, bad, "invalid_json"),
		add("email of the wrong type", `{"email":5,"name":"X"}`, bad, "invalid_json"),
		add("name of the wrong type", `{"email":"new@hostile.test","name":{"first":"X"}}`, bad, "invalid_json"),
		add("nulls", `{"email":null,"name":null}`, bad, "invalid_email"),
		add("JSON null", `null`, bad, "invalid_email"),
		add("JSON array", `[{"email":"new@hostile.test","name":"X"}]`, bad, "invalid_json"),
		add("trailing garbage", `{"email":"new@hostile.test","name":"X"} garbage`, bad, "invalid_json"),
		add("two objects", `{"email":"new@hostile.test","name":"X"}{"email":"new2@hostile.test"}`, bad, "invalid_json"),
		add("duplicate email key, the last one invalid", `{"email":"new@hostile.test","email":"not an email","name":"X"}`,
			bad, "invalid_email"),
		add("20k nested arrays", `{"email":`+strings.Repeat("[", 20_000)+`}`, bad, "invalid_json"),
		add("empty body", ``, bad, "invalid_json"),
		add("body of 70 KiB", big, tooLarge, "body_too_large"),
		{name: "api/POST members: chunked body of 70 KiB", method: http.MethodPost, path: members, header: admin,
			body: []byte(big), prepare: chunked, status: tooLarge, code: "body_too_large"},
		putPlan("test_mode_limit of 1e100", hPlanA, planBody(`,"test_mode_limit":1e100`), bad, "invalid_json"),
		putPlan("negative test_mode_limit", hPlanA, planBody(`,"test_mode_limit":-1`), bad, "invalid_test_mode_limit"),
		putPlan("admin with a newline", hPlanA, `{"organization_id":"`+hOrg+`","name":"A","admins":["a@hostile.test\nb"]}`,
			bad, "invalid_admin"),
		putPlan("WorkOS organization with a slash", hPlanA, planBody(`,"workos_organization_id":"org_1/../org_2"`), bad,
			"invalid_workos_organization_id"),
		putPlan("scoping group with a control character", hPlanA, planBody(`,"scoping_groups":["g\u0007"]`), bad,
			"invalid_scoping_group"),
		putPlan("unknown organization", hPlanA, `{"organization_id":"nope","name":"A","admins":[]}`, bad, "unknown_organization"),

		// Query parameters.
		get("limit=-1", members+"?limit=-1", bad, "invalid_limit"),
		get("limit=0", members+"?limit=0", bad, "invalid_limit"),
		get("limit=101", members+"?limit=101", bad, "invalid_limit"),
		get("limit=abc", members+"?limit=abc", bad, "invalid_limit"),
		get("limit of 30 digits", members+"?limit="+strings.Repeat("9", 30), bad, "invalid_limit"),
		get("after=garbage", members+"?after=%21%21%21", bad, "invalid_cursor"),
		get("after=NUL", members+"?after="+cursor("\x00"), bad, "invalid_cursor"),
		get("after=invalid UTF-8", members+"?after="+cursor("\xff"), bad, "invalid_cursor"),
		get("after=600 bytes", members+"?after="+cursor(strings.Repeat("a", 600)), bad, "invalid_cursor"),
		get("tier=invalid", members+"?tier=gold", bad, "invalid_tier"),
		get("audit after=garbage", plan+"/audit?after=%2F%2F", bad, "invalid_cursor"),
		get("audit after=-5", plan+"/audit?after="+cursor("-5"), bad, "invalid_cursor"),
		get("audit after=SQL", plan+"/audit?after="+cursor("1 OR 1=1"), bad, "invalid_cursor"),
		get("audit limit=-1", plan+"/audit?limit=-1", bad, "invalid_limit"),
		{name: "api/PATCH plan", method: http.MethodPatch, path: plan, header: admin, body: []byte(`{}`),
			status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
}

func (env *hostileEnv) formCases(t *testing.T) []hostileCase {
	now := time.Now()
	cookieA := env.cookie(hAdminA, now.Add(time.Hour))
	cookieB := env.cookie(hAdminB, now.Add(time.Hour))
	csrfA := env.csrf(t, cookieA)
	csrfB := env.csrf(t, cookieB)
	expired := env.cookie(hAdminA, now.Add(-time.Second))
	forged := server.SessionCookieFor("another-session-secret-0123456789abcdef", hAdminA, false, now.Add(time.Hour))
	env.secret(forged, "forged session cookie")
	tampered := []byte(cookieA)
	tampered[5] ^= 1

	path := "/plans/" + hPlanA + "/configure-scim"
	headers := func(cookie string, kv ...string) http.Header {
		h := http.Header{echo.HeaderContentType: {echo.MIMEApplicationForm}, "Origin": {"http://example.com"},
			"Sec-Fetch-Site": {"same-origin"}}
		if cookie != "" {
			h.Set("Cookie", "__Host-seatsync_session="+cookie)
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	form := func(name string, h http.Header, body string, status int, code string) hostileCase {
		return hostileCase{name: "form/" + name, method: http.MethodPost, path: path, header: h, body: []byte(body),
			status: status, code: code}
	}
	good := "csrf_token=" + url.QueryEscape(csrfA)
	tok := env.mint(t, hAdminA, false, now, time.Hour, hAudience)
	login := func(name, query string, h http.Header, status int, code, location string) hostileCase {
		return hostileCase{name: "login/" + name, method: http.MethodGet, path: "/login?" + query, header: h, status: status,
			code: code, location: location}
	}
	return []hostileCase{
		form("no session", headers(""), good, http.StatusUnauthorized, "session_required"),
		form("tampered cookie", headers(string(tampered)), good, http.StatusUnauthorized, "invalid_session"),
		form("cookie signed with another key", headers(forged), good, http.StatusUnauthorized, "invalid_session"),
		form("expired session", headers(expired), good, http.StatusUnauthorized, "session_expired"),
		form("cookie of 100 KiB", headers(strings.Repeat("A", 100<<10)+"."+"B"), good, http.StatusUnauthorized, "invalid_session"),
		form("no CSRF token", headers(cookieA), "a=b", http.StatusForbidden, "csrf"),
		form("CSRF token of another session", headers(cookieA), "csrf_token="+url.QueryEscape(csrfB), http.StatusForbidden, "csrf"),
		form("CSRF token twice", headers(cookieA), good+"&"+good, http.StatusForbidden, "csrf"),
		{name: "form/CSRF token in the query only", method: http.MethodPost, path: path + "?" + good, header: headers(cookieA),
			body: []byte("a=b"), status: http.StatusForbidden, code: "csrf"},
		form("cross-site Origin", headers(cookieA, "Origin", "https://evil.test", "Sec-Fetch-Site", ""), good,
			http.StatusForbidden, "csrf"),
		form("null Origin", headers(cookieA, "Origin", "null"), good, http.StatusForbidden, "csrf"),
		form("Sec-Fetch-Site cross-site", headers(cookieA, "Sec-Fetch-Site", "cross-site", "Origin", ""), good,
			http.StatusForbidden, "csrf"),
		form("body of 70 KiB", headers(cookieA), good+"&pad="+strings.Repeat("a", 70<<10), http.StatusRequestEntityTooLarge,
			"body_too_large"),
		form("another plan's admin", headers(cookieB), "csrf_token="+url.QueryEscape(csrfB), http.StatusNotFound, "plan_not_found"),
		{name: "form/plan id with SQL", method: http.MethodPost, path: "/plans/" + url.PathEscape("x';DROP TABLE plans;--") +
			"/configure-scim", header: headers(cookieA), body: []byte(good), status: http.StatusNotFound, code: "plan_not_found"},
		// Everything right, but no WorkOS API key: nothing may have been written on the way.
		form("all checks pass, WorkOS not configured", headers(cookieA), good, http.StatusServiceUnavailable, "workos_not_configured"),

		login("token in the query, next=//evil", "token="+tok+"&next="+url.QueryEscape("//evil.test/x"), nil,
			http.StatusSeeOther, "", "/"),
		login("next=https://evil", "token="+tok+"&next="+url.QueryEscape("https://evil.test/"), nil, http.StatusSeeOther, "", "/"),
		login("next=/%2F%2Fevil", "token="+tok+"&next="+url.QueryEscape("/%2F%2Fevil.test"), nil, http.StatusSeeOther, "", "/"),
		login("embedded as an image", "token="+tok, http.Header{"Sec-Fetch-Dest": {"image"}}, http.StatusForbidden, "csrf", ""),
		login("alg none token", "token="+env.unsignedToken(jwt.MapClaims{"sub": hAdminA, "aud": hAudience,
			"exp": now.Add(time.Hour).Unix()}), nil, http.StatusUnauthorized, "invalid_token", ""),
		login("two tokens", "token="+tok+"&token="+tok, nil, http.StatusUnauthorized, "missing_token", ""),
	}
}

// rawCases are decided by net/http before (or while) the handler runs.
func (env *hostileEnv) rawCases(t *testing.T) []hostileCase {
	now := time.Now()
	good := []byte(eventBody("event_hostile_raw_1", "dsync.user.created", map[string]any{"object": "directory_user",
		"id": "directory_user_h3", "email": "u3@hostile.test"}))
	sig := env.signed(good, now).Get(webhooks.SignatureHeader)
	host := env.srv.Listener.Addr().String()
	request := func(line string, headers []string, body []byte) []byte {
		var b bytes.Buffer
		b.WriteString(line + "\r\nHost: " + host + "\r\n")
		for _, h := range headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n")
		b.Write(body)
		return b.Bytes()
	}
	hook := func(headers ...string) []string {
		return append([]string{webhooks.SignatureHeader + ": " + sig, "Content-Type: application/json"}, headers...)
	}
	admin := env.mint(t, hAdminA, false, now, time.Hour, hAudience)
	// No case leaves bytes the server does not read: closing a connection
	// with unread input sends a reset, which can destroy the answer in flight.
	return []hostileCase{
		// The rest of the body is read as a next request, which never ends.
		{name: "raw/Content-Length shorter than the body", raw: request("POST "+hookPath+" HTTP/1.1",
			hook("Content-Length: 10"), good), status: http.StatusUnauthorized, code: webhooks.CodeSignatureMismatch},
		{name: "raw/Content-Length longer than the body", raw: request("POST "+hookPath+" HTTP/1.1",
			hook("Content-Length: "+strconv.Itoa(len(good)+100)), good), status: http.StatusBadRequest,
			code: webhooks.CodeBodyUnreadable},
		{name: "raw/two different Content-Lengths", raw: request("POST "+hookPath+" HTTP/1.1",
			hook("Content-Length: 6", "Content-Length: 5"), nil), status: http.StatusBadRequest},
		// RFC 9112 §6.3: Transfer-Encoding wins over Content-Length, so the
		// handler sees the (empty) chunked body, and the framing the server
		// used is the one any proxy in front must use: no desync.
		{name: "raw/Content-Length and chunked (smuggling)", raw: request("POST "+hookPath+" HTTP/1.1",
			hook("Content-Length: 4", "Transfer-Encoding: chunked"), []byte("0\r\n\r\n")), status: http.StatusUnauthorized,
			code: webhooks.CodeSignatureMismatch},
		{name: "raw/80 KiB header", raw: request("GET /api/v1/plans/"+hPlanA+" HTTP/1.1",
			[]string{"Authorization: Bearer " + admin, "X-Pad: " + strings.Repeat("p", 80<<10)}, nil),
			status: http.StatusRequestHeaderFieldsTooLarge},
		{name: "raw/CR inside a header value", raw: request("POST "+hookPath+" HTTP/1.1",
			hook("X-Request-ID: a\rINJECTED", "Content-Length: 0"), nil), status: http.StatusBadRequest},
		{name: "raw/escape character in X-Request-ID", raw: request("GET /api/v1/plans/"+hPlanA+" HTTP/1.1",
			[]string{"Authorization: Bearer " + admin, "X-Request-ID: \x1b[2J\x1b[31mINJECTED", "Connection: close"}, nil),
			status: http.StatusBadRequest},
		{name: "raw/invalid percent-encoding in the path", raw: request("DELETE /api/v1/plans/"+hPlanA+"/members/%zz HTTP/1.1",
			[]string{"Authorization: Bearer " + admin, "Connection: close"}, nil), status: http.StatusBadRequest},
		{name: "raw/request line with a space in the path", raw: request("GET /api/v1/plans/plan a HTTP/1.1",
			[]string{"Authorization: Bearer " + admin, "Connection: close"}, nil), status: http.StatusBadRequest},
	}
}

func configCases() []hostileCase {
	const secret = "whsec_config_LEAK_4b1d9e"
	cfg := func(name string, c hostileConfig) hostileCase {
		return hostileCase{name: "config/" + name, cfg: &c}
	}
	deep := "a: " + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "\n"
	deepMap := "seats: " + strings.Repeat("{a: ", 5_000) + "1" + strings.Repeat("}", 5_000) + "\n"
	laughs := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
	return []hostileCase{
		cfg("unknown key", hostileConfig{yaml: "webhook:\n  secrets: [x]\n", want: []string{"webhook"}}),
		cfg("unknown nested key", hostileConfig{yaml: "database:\n  pasword: x\n", want: []string{"database.pasword"}}),
		cfg("section given a scalar", hostileConfig{yaml: "webhooks: 5\n", want: []string{"webhooks"}}),
		cfg("wrong type: string for an integer", hostileConfig{yaml: "webhooks:\n  max_body: big\n", want: []string{"webhooks.max_body"}}),
		cfg("wrong type: list for a duration", hostileConfig{yaml: "webhooks:\n  tolerance: [5m]\n", want: []string{"webhooks.tolerance"}}),
		cfg("wrong type: mapping for a secret", hostileConfig{yaml: "auth:\n  jwt_secret: {value: " + secret + "}\n",
			want: []string{"auth.jwt_secret"}, secrets: []string{secret}}),
		cfg("wrong type: list for a secret", hostileConfig{yaml: "workos:\n  api_key: [" + secret + "]\n",
			want: []string{"workos.api_key"}, secrets: []string{secret}}),
		cfg("wrong type: mapping for the secrets list", hostileConfig{yaml: "webhooks:\n  secrets: {k: " + secret + "}\n",
			want: []string{"webhooks.secrets"}, secrets: []string{secret}}),
		cfg("fractional integer", hostileConfig{yaml: "seats:\n  test_mode_limit: 1.5\n", want: []string{"seats.test_mode_limit"}}),
		cfg("integer overflow", hostileConfig{yaml: "database:\n  max_open_conns: 99999999999999999999999\n",
			want: []string{"database.max_open_conns"}}),
		cfg("negative tolerance", hostileConfig{yaml: "webhooks:\n  tolerance: -5m\n", want: []string{"webhooks.tolerance"}}),
		cfg("negative cutover grace", hostileConfig{env: []string{"SEATSYNC_SEATS_CUTOVER_GRACE=-1s"},
			want: []string{"seats.cutover_grace"}}),
		cfg("negative request timeout", hostileConfig{yaml: "http:\n  request_timeout: -10s\n", want: []string{"http.request_timeout"}}),
		cfg("duration without a unit", hostileConfig{yaml: "webhooks:\n  tolerance: 300\n", want: []string{"webhooks.tolerance"}}),
		cfg("newline in a duration from the environment", hostileConfig{env: []string{"SEATSYNC_WEBHOOKS_TOLERANCE=5m\nINJECTED"},
			want: []string{"webhooks.tolerance", "SEATSYNC_WEBHOOKS_TOLERANCE"}}),
		cfg("newline in the log level from the environment", hostileConfig{env: []string{"SEATSYNC_LOG_LEVEL=info\nconfig: fake"},
			want: []string{"log.level"}}),
		cfg("newline in a URL from the environment", hostileConfig{env: []string{"SEATSYNC_SAML_LOGIN_URL=https://login.test/\r\nINJECTED"},
			want: []string{"saml.login_url"}}),
		cfg("javascript: login URL", hostileConfig{yaml: "saml:\n  login_url: javascript:alert(1)\n", want: []string{"saml.login_url"}}),
		cfg("scheme-relative endpoint", hostileConfig{yaml: "workos:\n  endpoint: //evil.test\n", want: []string{"workos.endpoint"}}),
		cfg("unparsable JWKS URL", hostileConfig{yaml: "auth:\n  jwks_url: 'http://[::1'\n", want: []string{"auth.jwks_url"}}),
		cfg("production with the dev secrets", hostileConfig{yaml: "env: production\ndatabase:\n  driver: postgres\n  url: postgres://db/x\n",
			env: []string{"SEATSYNC_WEBHOOKS_SECRETS=whsec_dev_seatsync_local_only",
				"SEATSYNC_AUTH_JWT_SECRET=dev-jwt-secret-seatsync-local-only-0123456789"},
			want:    []string{"webhooks.secrets", "auth.jwt_secret"},
			secrets: []string{"whsec_dev_seatsync_local_only", "dev-jwt-secret-seatsync-local-only-0123456789"}}),
		cfg("max_body of 1e400 from the environment", hostileConfig{env: []string{"SEATSYNC_WEBHOOKS_MAX_BODY=1e400"},
			want: []string{"webhooks.max_body"}}),
		cfg("duplicate key", hostileConfig{yaml: "env: dev\nenv: production\n", want: []string{"config: parse"}}),
		cfg("tab indentation", hostileConfig{yaml: "seats:\n\ttest_mode_limit: 5\n", want: []string{"config: parse"}}),
		cfg("invalid UTF-8", hostileConfig{yaml: "env: \xff\xfe\n", want: []string{"config: parse"}}),
		cfg("20k nested flow sequences", hostileConfig{yaml: deep, want: []string{"config: parse"}}),
		cfg("5k nested mappings", hostileConfig{yaml: deepMap, want: []string{"config"}}),
		cfg("billion laughs", hostileConfig{yaml: laughs, want: []string{"config"}}),
	}
}

// --- secrets, tokens and signatures the log must not contain ---

// secret registers a value the log and the answers must not contain.
func (env *hostileEnv) secret(v, what string) {
	env.mu.Lock()
	defer env.mu.Unlock()
	env.secrets[v] = what
}

func (env *hostileEnv) bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// mint returns an HS256 token of the test's secret and registers it.
func (env *hostileEnv) mint(t *testing.T, email string, service bool, now time.Time, ttl time.Duration, aud string) string {
	t.Helper()
	return env.mintWith(t, hJWTSecret, email, service, now, ttl, aud)
}

func (env *hostileEnv) mintWith(t *testing.T, secret, email string, service bool, now time.Time, ttl time.Duration, aud string) string {
	t.Helper()
	tok, err := auth.Mint(secret, auth.Principal{Email: email, Service: service}, ttl, now, "", aud)
	if err != nil {
		t.Fatal(err)
	}
	env.registerToken(tok)
	return tok
}

// token signs tok with key and registers it.
func (env *hostileEnv) token(t *testing.T, tok *jwt.Token, key any) string {
	t.Helper()
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	env.registerToken(s)
	return s
}

// unsignedToken is an "alg: none" token of claims.
func (env *hostileEnv) unsignedToken(claims jwt.MapClaims) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	s := enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
	env.registerToken(s)
	return s
}

func (env *hostileEnv) registerToken(tok string) {
	env.secret(tok, "token")
	if parts := strings.Split(tok, "."); len(parts) == 3 {
		env.secret(parts[1], "token claims")
		if len(parts[2]) >= 16 {
			env.secret(parts[2], "token signature")
		}
	}
}

// signature is the WorkOS-Signature header of body at ts (as written) with
// secret; it and its v1 are registered.
func (env *hostileEnv) signature(body []byte, secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	v1 := hex.EncodeToString(m.Sum(nil))
	h := "t=" + ts + ", v1=" + v1
	env.secret(h, "signature header")
	env.secret(v1, "signature")
	return h
}

// signed is the header of a genuine delivery of body signed at at.
func (env *hostileEnv) signed(body []byte, at time.Time) http.Header {
	return env.signedWith(body, hHookSecret, at)
}

// signedWith is the header of body signed with secret at at.
func (env *hostileEnv) signedWith(body []byte, secret string, at time.Time) http.Header {
	h := http.Header{}
	h.Set(webhooks.SignatureHeader, env.signature(body, secret, strconv.FormatInt(at.UnixMilli(), 10)))
	return h
}

// cookie is a session cookie value for email, registered.
func (env *hostileEnv) cookie(email string, expires time.Time) string {
	c := server.SessionCookieFor(hJWTSecret, email, false, expires)
	env.secret(c, "session cookie")
	return c
}

func (env *hostileEnv) csrf(t *testing.T, cookie string) string {
	t.Helper()
	tok, err := server.CSRFTokenFor(hJWTSecret, cookie, server.PurposeConfigureSCIM)
	if err != nil {
		t.Fatal(err)
	}
	env.secret(tok, "CSRF token")
	return tok
}

// noSecrets fails when text contains a registered secret.
func (env *hostileEnv) noSecrets(t *testing.T, where, text string) {
	t.Helper()
	env.mu.Lock()
	defer env.mu.Unlock()
	for v, what := range env.secrets {
		if strings.Contains(text, v) {
			t.Errorf("%s contains a %s (%.40s…)", where, what, v)
		}
	}
}

// checkLog checks captured log text: one valid JSON object per line, with a
// level and a message, no raw control character anywhere, no control
// character in any decoded value (a JSON-escaped newline still injects a line
// into whatever renders the value), no panic, and no registered secret.
func (env *hostileEnv) checkLog(t *testing.T, text string) {
	t.Helper()
	env.noSecrets(t, "the log", text)
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			if text != "" {
				t.Errorf("log line %d is empty", i)
			}
			continue
		}
		if j := strings.IndexFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }); j >= 0 {
			t.Errorf("log line %d has a raw control character at byte %d: %.200q", i, j, line)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %d is not a JSON object (%v): %.200q", i, err, line)
			continue
		}
		if _, ok := rec["level"].(string); !ok {
			t.Errorf("log line %d has no level: %.200s", i, line)
		}
		if msg, _ := rec["msg"].(string); msg == "" || msg == "panic" {
			t.Errorf("log line %d: msg %q: %.300s", i, msg, line)
		}
		walkStrings(rec, func(key, s string) {
			if j := strings.IndexFunc(s, unicode.IsControl); j >= 0 || strings.ContainsAny(s, "\u2028\u2029") {
				t.Errorf("log line %d: %s holds a control or line-breaking character: %.200q", i, key, s)
			}
		})
	}
}

func walkStrings(v any, f func(key, s string)) {
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case string:
			f(key, v)
		case map[string]any:
			for k, x := range v {
				walk(key+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		}
	}
	walk("", v)
}

// hostileErrorCode returns the code of a {"error":{"code":…,"message":…}} body, or "".
func hostileErrorCode(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return ""
	}
	return e.Error.Code
}

// hostileLog is the log buffer the server, the store and the applier share.
type hostileLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *hostileLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *hostileLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

func (l *hostileLog) Since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf.Bytes()[mark:])
}

func (l *hostileLog) String() string { return l.Since(0) }

// --- compression bombs, made once ---

// bombSize is what the compression bombs inflate to: 512 MiB from about
// 600 KiB, under the 1 MiB body limit. They are built from one compressed
// MiB, repeated: compressing 512 MiB under the race detector takes minutes.
const bombSize = 512 << 20

var (
	gzipBomb    = sync.OnceValue(func() []byte { return gzipZeros(bombSize >> 20) })
	deflateBomb = sync.OnceValue(func() []byte { return deflateZeros(bombSize >> 20) })
)

// gzipZeros is mib MiB of zeros as concatenated gzip members (a gzip reader
// reads them all as one stream).
func gzipZeros(mib int) []byte {
	var member bytes.Buffer
	w, _ := gzip.NewWriterLevel(&member, gzip.BestSpeed)
	_, _ = w.Write(make([]byte, 1<<20))
	_ = w.Close()
	return bytes.Repeat(member.Bytes(), mib)
}

// deflateZeros is mib MiB of zeros as raw deflate: one flushed (so
// byte-aligned) block of a MiB of zeros, repeated — its back-references only
// ever reach zeros — and an empty final block.
func deflateZeros(mib int) []byte {
	var block bytes.Buffer
	w, _ := flate.NewWriter(&block, flate.BestSpeed)
	_, _ = w.Write(make([]byte, 1<<20))
	_ = w.Flush()
	return append(bytes.Repeat(block.Bytes(), mib), 0x03, 0x00)
}

// --- database snapshots ---

// openSnapshotDB opens a second connection to the store's database, through
// database/sql and not the store, so the snapshot does not trust the code under test.
func openSnapshotDB(t *testing.T, opts store.Options) *sql.DB {
	t.Helper()
	var (
		db  *sql.DB
		err error
	)
	switch opts.Driver {
	case "sqlite":
		db, err = sql.Open("sqlite", opts.Path+"?_pragma=busy_timeout(10000)")
	case "postgres":
		db, err = sql.Open("pgx", opts.URL)
	default:
		t.Fatalf("unknown driver %q", opts.Driver)
	}
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// listTables lists the tables of the schema, so tables added later are dumped too.
func (env *hostileEnv) listTables(t *testing.T) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if env.dialect == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	rows, err := env.db.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot dumps every row of every table (and the list of tables itself),
// rows sorted, values printed exactly.
func (env *hostileEnv) snapshot(t *testing.T) map[string][]string {
	t.Helper()
	snap := map[string][]string{"(tables)": env.listTables(t)}
	for _, table := range env.tables {
		rows, err := env.db.QueryContext(t.Context(), `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var dump []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			var b strings.Builder
			for i, v := range vals {
				switch v := v.(type) {
				case nil:
					fmt.Fprintf(&b, "%s=NULL ", cols[i])
				case []byte:
					fmt.Fprintf(&b, "%s=%q ", cols[i], v)
				case time.Time:
					fmt.Fprintf(&b, "%s=%s ", cols[i], v.UTC().Format(time.RFC3339Nano))
				default:
					fmt.Fprintf(&b, "%s=%#v ", cols[i], v)
				}
			}
			dump = append(dump, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rows.Close()
		slices.Sort(dump)
		snap[table] = dump
	}
	return snap
}

// snapshotsEqual reports the differences between two snapshots.
func snapshotsEqual(t *testing.T, before, after map[string][]string) bool {
	t.Helper()
	equal := true
	for table, rows := range before {
		if got := after[table]; !slices.Equal(rows, got) {
			equal = false
			t.Errorf("table %s: %d rows before, %d after", table, len(rows), len(got))
			for _, r := range rows {
				if !slices.Contains(got, r) {
					t.Errorf("  - %.300s", r)
				}
			}
			for _, r := range got {
				if !slices.Contains(rows, r) {
					t.Errorf("  + %.300s", r)
				}
			}
		}
	}
	return equal
}

// TestHostileBombs checks that the bombs are what the matrix says they are:
// a 3 MiB one built the same way inflates to 3 MiB (inflating the real ones
// takes a minute under the race detector), and the real ones fit in a body.
func TestHostileBombs(t *testing.T) {
	t.Parallel()
	gz, err := gzip.NewReader(bytes.NewReader(gzipZeros(3)))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{"gzip": gz, "deflate": flate.NewReader(bytes.NewReader(deflateZeros(3)))} {
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != 3<<20 {
			t.Errorf("a 3 MiB %s bomb inflates to %d bytes (%v)", name, n, err)
		}
	}
	for name, b := range map[string][]byte{"gzip": gzipBomb(), "deflate": deflateBomb()} {
		if len(b) >= hHookMax {
			t.Errorf("%s bomb is %d bytes, want under the webhook limit %d", name, len(b), hHookMax)
		}
	}
}
