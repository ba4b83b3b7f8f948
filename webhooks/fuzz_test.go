package webhooks

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// FuzzParseSignatureHeader: no header makes the parser or Verify panic, what
// parses is self-consistent, and every header Sign makes parses back and verifies.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.header, testSecret, []byte("{}"), int64(1742889835391))
	}
	f.Add("t=1742889835391, v1=7d13b2c02348e1f2621a839d8cd972739a53414971b4d3b8d81852edb4c13aa0", "example-webhook-secret-NOT-REAL-3f9a1c", []byte(`{"id":"event_1"}`), int64(0))
	f.Add("t=1,v1=", "s", []byte(nil), int64(-1))
	f.Fuzz(func(t *testing.T, header, secret string, body []byte, ms int64) {
		sig, err := ParseSignatureHeader(header)
		if err == nil {
			if got, perr := strconv.ParseInt(sig.T, 10, 64); perr != nil || got != sig.TimeMS || len(sig.V1) == 0 {
				t.Fatalf("ParseSignatureHeader(%q) = %+v: T, TimeMS and V1 disagree", header, sig)
			}
			for _, v := range sig.V1 {
				if len(v) != 32 {
					t.Fatalf("ParseSignatureHeader(%q) kept a %d-byte v1", header, len(v))
				}
			}
		}
		v := newTestVerifier(t, testSecret)
		_ = v.Verify(header, body) // must not panic

		if ms < 0 {
			ms = -(ms + 1) // WorkOS never signs before 1970; Sign's doc says so
		}
		at := time.UnixMilli(ms)
		signed := Sign(secret, at, body)
		sig, err = ParseSignatureHeader(signed)
		if err != nil || sig.TimeMS != ms || sig.T != strconv.FormatInt(ms, 10) || len(sig.V1) != 1 {
			t.Fatalf("ParseSignatureHeader(Sign(…, %d, …) = %q) = %+v, %v; want t=%d and one v1", ms, signed, sig, err, ms)
		}
		if v, err := NewVerifier([]string{secret}, time.Second, func() time.Time { return at }); err == nil {
			if err := v.Verify(signed, body); err != nil {
				t.Fatalf("Verify(Sign(%q, %d, %q)) = %v, want nil", secret, ms, body, err)
			}
		}
	})
}

// FuzzDecodeEnvelope: no body makes DecodeEnvelope panic, and an envelope it
// returns survives encoding and decoding again unchanged.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, tt := range decodeTests {
		if len(tt.in) < 1<<10 {
			f.Add([]byte(tt.in))
		}
	}
	for _, tt := range decodeErrorTests {
		if len(tt.in) < 1<<10 {
			f.Add([]byte(tt.in))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := DecodeEnvelope(body)
		if err != nil {
			return
		}
		first, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("json.Marshal(DecodeEnvelope(%q)) = %v", body, err)
		}
		again, err := DecodeEnvelope(first)
		if err != nil {
			t.Fatalf("DecodeEnvelope(%s) = %v; it was decoded from %q", first, err, body)
		}
		if again.ID != env.ID || again.Event != env.Event || again.Object != env.Object || !again.CreatedAt.Equal(env.CreatedAt) {
			t.Fatalf("re-decoded %+v, want %+v", again, env)
		}
		second, err := json.Marshal(again)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("encoding is not a fixpoint:\n%s\n%s (%v)", first, second, err)
		}
	})
}
