package webhooks

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// testNow is the clock of most tests: the signature vector's now_ms.
var testNow = time.UnixMilli(1742889840000)

const testSecret = "whsec-test-secret"

// hex64 is a well-formed v1 value that matches nothing.
var hex64 = strings.Repeat("ab", 32)

var parseTests = []struct {
	name   string
	header string
	wantT  string
	wantMS int64
	wantV1 int // number of v1 values kept; 0 means an error is expected
}{
	{"WorkOS format", "t=1742889835391, v1=" + hex64, "1742889835391", 1742889835391, 1},
	{"no space after comma", "t=1742889835391,v1=" + hex64, "1742889835391", 1742889835391, 1},
	{"keys in any order", "v1=" + hex64 + ", t=5", "5", 5, 1},
	{"spaces and tabs around parts", " \tt=5 ,\tv1=" + hex64 + " ", "5", 5, 1},
	{"unknown keys ignored", "t=5, v0=zz, v1=" + hex64 + ", x=", "5", 5, 1},
	{"stray commas ignored", ",t=5,, v1=" + hex64 + ",", "5", 5, 1},
	{"several v1 kept", "t=5, v1=" + hex64 + ", v1=" + strings.Repeat("cd", 32), "5", 5, 2},
	{"upper-case hex", "t=5, v1=" + strings.ToUpper(hex64), "5", 5, 1},
	{"bad v1 skipped when a good one remains", "t=5, v1=abc, v1=" + hex64 + ", v1=" + strings.Repeat("zz", 32), "5", 5, 1},
	{"leading zeros kept verbatim", "t=007, v1=" + hex64, "007", 7, 1},
	{"max int64", "t=9223372036854775807, v1=" + hex64, "9223372036854775807", 9223372036854775807, 1},
	{"value may contain '='", "t=5, v1=" + hex64 + ", x=a=b", "5", 5, 1},

	{"empty", "", "", 0, 0},
	{"only spaces", "   ", "", 0, 0},
	{"garbage", "garbage", "", 0, 0},
	{"no t", "v1=" + hex64, "", 0, 0},
	{"no v1", "t=5", "", 0, 0},
	{"empty v1", "t=1742889835391,v1=", "", 0, 0},
	{"t without value", "t,v1=abc", "", 0, 0},
	{"empty t", "t=, v1=" + hex64, "", 0, 0},
	{"duplicate t", "t=5, t=5, v1=" + hex64, "", 0, 0},
	{"signed t", "t=+5, v1=" + hex64, "", 0, 0},
	{"negative t", "t=-5, v1=" + hex64, "", 0, 0},
	{"non-digit t", "t=5a, v1=" + hex64, "", 0, 0},
	{"t with inner space", "t=1 5, v1=" + hex64, "", 0, 0},
	{"t overflows int64", "t=9223372036854775808, v1=" + hex64, "", 0, 0},
	{"t too long", "t=" + strings.Repeat("0", 20) + "5, v1=" + hex64, "", 0, 0},
	{"short v1 only", "t=5, v1=abcd", "", 0, 0},
	{"long v1 only", "t=5, v1=" + hex64 + "00", "", 0, 0},
	{"non-hex v1 only", "t=5, v1=" + strings.Repeat("g", 64), "", 0, 0},
	{"key case matters", "T=5, V1=" + hex64, "", 0, 0},
	{"semicolon separator", "t=5; v1=" + hex64, "", 0, 0},
	{"header too long", "t=5, v1=" + hex64 + ", x=" + strings.Repeat("a", maxHeaderLen), "", 0, 0},
}

func TestParseSignatureHeader(t *testing.T) {
	t.Parallel()
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSignatureHeader(tt.header)
			if tt.wantV1 == 0 {
				if code := membership.ErrorCode(err); code != CodeSignatureMalformed {
					t.Fatalf("ParseSignatureHeader(%q) error code = %q, want %q (err %v)", tt.header, code, CodeSignatureMalformed, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSignatureHeader(%q) = %v, want no error", tt.header, err)
			}
			if got.T != tt.wantT || got.TimeMS != tt.wantMS || len(got.V1) != tt.wantV1 {
				t.Errorf("ParseSignatureHeader(%q) = {T:%q TimeMS:%d %d×v1}, want {T:%q TimeMS:%d %d×v1}",
					tt.header, got.T, got.TimeMS, len(got.V1), tt.wantT, tt.wantMS, tt.wantV1)
			}
			for i, v := range got.V1 {
				if len(v) != 32 {
					t.Errorf("ParseSignatureHeader(%q).V1[%d] has %d bytes, want 32", tt.header, i, len(v))
				}
			}
		})
	}
}

func TestNewVerifier(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		secrets   []string
		tolerance time.Duration
	}{
		{"no secrets", nil, 0},
		{"empty secret", []string{""}, 0},
		{"blank secret among good ones", []string{"good", " \t"}, 0},
		{"negative tolerance", []string{"good"}, -time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(tt.secrets, tt.tolerance, nil)
			if err == nil {
				t.Fatalf("NewVerifier(%q, %v) = %+v, want an error", tt.secrets, tt.tolerance, v)
			}
			for _, s := range tt.secrets {
				if strings.TrimSpace(s) != "" && strings.Contains(err.Error(), s) {
					t.Errorf("NewVerifier error %q contains a secret", err)
				}
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		v, err := NewVerifier([]string{"a", "b"}, 0, nil)
		if err != nil {
			t.Fatalf("NewVerifier = %v, want no error", err)
		}
		if v.Tolerance != DefaultTolerance || v.Now == nil || len(v.Secrets) != 2 {
			t.Errorf("NewVerifier = {Tolerance:%v Now:%v %d secrets}, want {Tolerance:%v Now:set 2 secrets}",
				v.Tolerance, v.Now != nil, len(v.Secrets), DefaultTolerance)
		}
	})
}

func newTestVerifier(t testing.TB, secrets ...string) *Verifier {
	t.Helper()
	v, err := NewVerifier(secrets, DefaultTolerance, func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// checkCode fails unless err is a *membership.Error of Kind Unauthorized
// with code want, or nil when want is "".
func checkCode(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
		return
	}
	var me *membership.Error
	if !errors.As(err, &me) {
		t.Fatalf("Verify = %v, want *membership.Error with code %q", err, want)
	}
	if me.Code != want || me.Kind != membership.Unauthorized {
		t.Fatalf("Verify = %s (kind %s), want %s (kind unauthorized)", me.Code, me.Kind, want)
	}
}

func TestVerifier_Verify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"event_1","event":"dsync.user.created"}`)
	other := []byte(`{"id":"event_1","event":"dsync.user.deleted"}`)
	for _, tt := range []struct {
		name    string
		secrets []string
		header  string
		body    []byte
		want    string
	}{
		{"valid", []string{testSecret}, Sign(testSecret, testNow, body), body, ""},
		{"second secret matches (rotation)", []string{"old", testSecret}, Sign(testSecret, testNow, body), body, ""},
		{"first secret matches (rotation)", []string{testSecret, "new"}, Sign(testSecret, testNow, body), body, ""},
		{"edge of the past window", []string{testSecret}, Sign(testSecret, testNow.Add(-DefaultTolerance), body), body, ""},
		{"edge of the future window", []string{testSecret}, Sign(testSecret, testNow.Add(DefaultTolerance), body), body, ""},
		{"empty body", []string{testSecret}, Sign(testSecret, testNow, nil), nil, ""},
		{"missing", []string{testSecret}, "", body, CodeSignatureMissing},
		{"blank", []string{testSecret}, " ", body, CodeSignatureMissing},
		{"malformed", []string{testSecret}, "v1=" + hex64, body, CodeSignatureMalformed},
		{"just too old", []string{testSecret}, Sign(testSecret, testNow.Add(-DefaultTolerance-time.Millisecond), body), body, CodeSignatureStale},
		{"just too far in the future", []string{testSecret}, Sign(testSecret, testNow.Add(DefaultTolerance+time.Millisecond), body), body, CodeSignatureStale},
		{"year 0 is stale, not an overflow", []string{testSecret}, "t=0, v1=" + hex64, body, CodeSignatureStale},
		{"max int64 is stale, not an overflow", []string{testSecret}, "t=9223372036854775807, v1=" + hex64, body, CodeSignatureStale},
		{"tampered body", []string{testSecret}, Sign(testSecret, testNow, body), other, CodeSignatureMismatch},
		{"wrong secret", []string{"other"}, Sign(testSecret, testNow, body), body, CodeSignatureMismatch},
		{"secret is a prefix", []string{testSecret[:5]}, Sign(testSecret, testNow, body), body, CodeSignatureMismatch},
		{"t changed after signing", []string{testSecret}, strings.Replace(Sign(testSecret, testNow, body), "t=1", "t=01", 1), body, CodeSignatureMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, tt.secrets...)
			err := v.Verify(tt.header, tt.body)
			checkCode(t, err, tt.want)
			if err != nil {
				// The message is shown to callers: no secret, no expected digest.
				for _, s := range tt.secrets {
					want := Sign(s, testNow, tt.body)
					if msg := err.Error(); strings.Contains(msg, s) || strings.Contains(msg, want[strings.Index(want, "v1=")+3:]) {
						t.Errorf("Verify error %q reveals a secret or the expected signature", msg)
					}
				}
			}
		})
	}
}

func TestVerifier_Verify_staleMessage(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testSecret)
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{testNow.Add(-time.Hour), "too old"},
		{testNow.Add(time.Hour), "in the future"},
	} {
		err := v.Verify(Sign(testSecret, tt.at, nil), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Verify(signed at now%+v) = %v, want a message containing %q", tt.at.Sub(testNow), err, tt.want)
		}
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	// The vector's own secret, body and timestamp must give its header.
	vec := loadVector(t)
	ms, err := strconv.ParseInt(vec.TimestampMS, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(vec.Secret, time.UnixMilli(ms), []byte(vec.RawBody)); got != vec.Header {
		t.Errorf("Sign(vector) = %q, want %q", got, vec.Header)
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		b.Run(byteSize(size), func(b *testing.B) {
			v := newTestVerifier(b, "old-secret", testSecret) // rotation: the second one matches
			header := Sign(testSecret, testNow, body)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(header, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func byteSize(n int) string { return strconv.Itoa(n>>10) + "KiB" }
