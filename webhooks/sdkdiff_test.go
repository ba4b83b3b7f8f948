package webhooks

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	workoswebhooks "github.com/workos/workos-go/v4/pkg/webhooks"
)

// errSDKPanics stands for "ValidatePayload panicked" in sdkDiffTests.
var errSDKPanics = errors.New("panic")

// sdkDiffTests are the places where our verifier deliberately differs from the
// v4.46.1 SDK (reference/workos.md §3). Each names what the SDK does (nil =
// accepts) and what we return ("" = accept). The SDK always has one secret,
// the first; we have all of them.
var sdkDiffTests = func() []struct {
	name    string
	secrets []string
	header  string
	sdk     error
	ours    string
} {
	body := []byte(`{"id":"event_1","event":"dsync.user.created"}`)
	ms := testNow.UnixMilli()
	fresh := Sign(testSecret, testNow, body)
	v1 := fresh[strings.Index(fresh, "v1=")+3:]
	one := []string{testSecret}
	return []struct {
		name    string
		secrets []string
		header  string
		sdk     error
		ours    string
	}{
		{"future timestamp: SDK accepts, we reject", one, Sign(testSecret, testNow.Add(10*time.Minute), body), nil, CodeSignatureStale},
		{"4 minutes old: SDK's 180 s window rejects, our 5 min accepts", one, Sign(testSecret, testNow.Add(-4*time.Minute), body), workoswebhooks.ErrInvalidTimestamp, ""},
		{"empty v1 part: SDK panics", one, "t=" + strconv.FormatInt(ms, 10) + ",v1=", errSDKPanics, CodeSignatureMalformed},
		{"one-byte t part: SDK panics", one, "t,v1=abc", errSDKPanics, CodeSignatureMalformed},
		{"no space after comma: SDK cuts a digit off", one, strings.Replace(fresh, ", ", ",", 1), workoswebhooks.ErrNoValidSignature, ""},
		{"two v1 values, second matches", one, fresh + ", v1=" + hex64, workoswebhooks.ErrInvalidHeader, ""},
		{"two v1 values, first matches", one, "t=" + strconv.FormatInt(ms, 10) + ", v1=" + hex64 + ", v1=" + v1, workoswebhooks.ErrInvalidHeader, ""},
		{"rotation: signed with the second secret", []string{"previous-secret", testSecret}, fresh, workoswebhooks.ErrNoValidSignature, ""},
		{"upper-case hex", one, "t=" + strconv.FormatInt(ms, 10) + ", v1=" + strings.ToUpper(v1), workoswebhooks.ErrNoValidSignature, ""},
		{"keys swapped", one, "v1=" + v1 + ", t=" + strconv.FormatInt(ms, 10), workoswebhooks.ErrInvalidHeader, ""},
		{"seconds instead of ms: both stale", one, signWith(testSecret, strconv.FormatInt(testNow.Unix(), 10), body), workoswebhooks.ErrInvalidTimestamp, CodeSignatureStale},
		{"empty header: both unsigned", one, "", workoswebhooks.ErrNotSigned, CodeSignatureMissing},
		{"duplicate t", one, "t=" + strconv.FormatInt(ms, 10) + ", t=" + strconv.FormatInt(ms, 10) + ", v1=" + v1, workoswebhooks.ErrInvalidHeader, CodeSignatureMalformed},
		{"garbage", one, "garbage", workoswebhooks.ErrInvalidHeader, CodeSignatureMalformed},
		// The SDK never reads the keys or forbids a sign, so it is laxer here.
		{"wrong key names: SDK accepts", one, "x=" + strconv.FormatInt(ms, 10) + ", y1=" + v1, nil, CodeSignatureMalformed},
		{"plus sign on t: SDK accepts", one, signWith(testSecret, "+"+strconv.FormatInt(ms, 10), body), nil, CodeSignatureMalformed},
	}
}()

func TestVerify_DiffersFromSDK(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"event_1","event":"dsync.user.created"}`)
	for _, tt := range sdkDiffTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The SDK holds one secret; during a rotation it is the old one.
			err, panicked := sdkValidate(tt.secrets[0], tt.header, body, testNow)
			switch {
			case tt.sdk == errSDKPanics:
				if !panicked {
					t.Errorf("SDK ValidatePayload(%q) = %v, want a panic", tt.header, err)
				}
			case panicked:
				t.Errorf("SDK ValidatePayload(%q) panicked, want %v", tt.header, tt.sdk)
			case !errors.Is(err, tt.sdk) || (tt.sdk == nil) != (err == nil):
				t.Errorf("SDK ValidatePayload(%q) = %v, want %v", tt.header, err, tt.sdk)
			}
			checkCode(t, newTestVerifier(t, tt.secrets...).Verify(tt.header, body), tt.ours)
		})
	}
}

// TestNewVerifier_emptySecretUnlikeSDK: NewClient("") verifies requests signed
// with an empty key, so a missing setting disables security; we refuse it.
func TestNewVerifier_emptySecretUnlikeSDK(t *testing.T) {
	t.Parallel()
	body := []byte(`{}`)
	header := Sign("", testNow, body)
	if err, panicked := sdkValidate("", header, body, testNow); err != nil || panicked {
		t.Errorf("SDK NewClient(\"\").ValidatePayload = %v (panic %v), want it to accept (the weakness)", err, panicked)
	}
	if _, err := NewVerifier([]string{""}, 0, nil); err == nil {
		t.Errorf("NewVerifier([\"\"]) = nil error, want a refusal")
	}
}
