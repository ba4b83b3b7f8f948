package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	workoswebhooks "github.com/workos/workos-go/v4/pkg/webhooks"
)

// The SDK is imported only here: these tests pin our verifier to what WorkOS's
// v4.46.1 client accepts (reference/workos.md §3), and document where we differ.

// sdkValidate runs the v4.46.1 ValidatePayload and turns its panics (on short
// header parts) into panicked = true.
func sdkValidate(secret, header string, body []byte, now time.Time) (err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	c := workoswebhooks.NewClient(secret)
	c.SetNow(func() time.Time { return now })
	_, err = c.ValidatePayload(header, string(body))
	return err, false
}

// signWith signs body with ts written exactly as given, the way WorkOS's own
// SDK tests build headers ("t=%d, v1=%s").
func signWith(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	return fmt.Sprintf("t=%s, v1=%s", ts, hex.EncodeToString(m.Sum(nil)))
}

func randomBytes(r *rand.Rand, max int) []byte {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = byte(r.Uint32()) // any byte: the signature covers bytes, not text
	}
	return b
}

func randomSecret(r *rand.Rand) string {
	for {
		if s := string(randomBytes(r, 64)); strings.TrimSpace(s) != "" {
			return s
		}
	}
}

// TestVerify_SDKInterop checks that whatever the SDK accepts in the documented
// header format, we accept too.
func TestVerify_SDKInterop(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))

	t.Run("Sign with the current time", func(t *testing.T) {
		for i := range 200 {
			secret, body, now := randomSecret(r), randomBytes(r, 512), time.Now()
			header := Sign(secret, now, body)
			if err, panicked := sdkValidate(secret, header, body, now); err != nil || panicked {
				t.Fatalf("seed %d #%d: SDK ValidatePayload(%q) = %v (panic %v), want ok", seed, i, header, err, panicked)
			}
			v, _ := NewVerifier([]string{secret}, 0, nil) // real clock
			if err := v.Verify(header, body); err != nil {
				t.Fatalf("seed %d #%d: Verify(%q) = %v, want nil", seed, i, header, err)
			}
		}
	})

	// Variants the SDK accepts: any age within its 180 s window, any future
	// time within ours, leading zeros on t. Its tests format with %d.
	variants := []struct {
		name   string
		header func(secret string, body []byte) string
	}{
		{"SDK test format, fresh", func(s string, b []byte) string { return signWith(s, strconv.FormatInt(testNow.UnixMilli(), 10), b) }},
		{"up to 170 s old", func(s string, b []byte) string {
			return signWith(s, strconv.FormatInt(testNow.UnixMilli()-r.Int64N(170_000), 10), b)
		}},
		{"up to 4 min in the future", func(s string, b []byte) string {
			return signWith(s, strconv.FormatInt(testNow.UnixMilli()+r.Int64N(240_000), 10), b)
		}},
		{"leading zeros on t", func(s string, b []byte) string {
			return signWith(s, strings.Repeat("0", r.IntN(6))+strconv.FormatInt(testNow.UnixMilli(), 10), b)
		}},
		{"Sign", func(s string, b []byte) string {
			return Sign(s, testNow.Add(-time.Duration(r.Int64N(int64(170*time.Second)))), b)
		}},
	}
	for _, vt := range variants {
		t.Run(vt.name, func(t *testing.T) {
			for i := range 200 {
				secret, body := randomSecret(r), randomBytes(r, 512)
				header := vt.header(secret, body)
				if err, panicked := sdkValidate(secret, header, body, testNow); err != nil || panicked {
					t.Fatalf("seed %d #%d: SDK ValidatePayload(%q) = %v (panic %v): generator is wrong", seed, i, header, err, panicked)
				}
				if err := newTestVerifier(t, secret).Verify(header, body); err != nil {
					t.Fatalf("seed %d #%d: Verify(%q) = %v, want nil like the SDK", seed, i, header, err)
				}
			}
		})
	}
}
