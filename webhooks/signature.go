package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SignatureHeader is the HTTP header WorkOS puts its signature in.
const SignatureHeader = "WorkOS-Signature"

// DefaultTolerance is how far the signed timestamp may be from now, in either
// direction, when NewVerifier is given a zero tolerance (SPEC §2).
const DefaultTolerance = 5 * time.Minute

// Error codes of signature failures; each comes as a *membership.Error of Kind
// Unauthorized.
const (
	CodeSignatureMissing   = "signature_missing"
	CodeSignatureMalformed = "signature_malformed"
	CodeSignatureStale     = "signature_stale"
	CodeSignatureMismatch  = "signature_mismatch"
)

const (
	// The header is attacker-controlled and net/http allows up to 1 MiB of
	// headers; a genuine one is about 80 bytes, so refuse to look at more.
	maxHeaderLen = 4096
	// 19 digits hold every non-negative int64; ParseInt still guards overflow.
	maxTimestampDigits = 19
	v1HexLen           = 2 * sha256.Size
)

// Signature is a parsed WorkOS-Signature header.
type Signature struct {
	T      string   // the timestamp digits exactly as sent; they are part of the signed string
	TimeMS int64    // T as Unix milliseconds
	V1     [][]byte // decoded HMAC-SHA256 digests, one per well-formed v1 value
}

// ParseSignatureHeader parses "t=<ms>, v1=<hex>[, v1=<hex>…]" by key, in any
// order, with or without spaces after the commas. Unknown keys are ignored, so
// are v1 values that are not 64 hex digits as long as one valid v1 remains.
// It never panics; every failure is an error with code signature_malformed.
func ParseSignatureHeader(h string) (Signature, error) {
	var sig Signature
	if len(h) > maxHeaderLen {
		return sig, malformed("header is too long")
	}
	seenT := false
	for part := range strings.SplitSeq(h, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue // a stray comma carries no information
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return Signature{}, malformed("every part must be key=value")
		}
		switch key {
		case "t":
			if seenT {
				// Two timestamps are ambiguous: which one was signed?
				return Signature{}, malformed("more than one t")
			}
			seenT = true
			ms, err := parseTimestamp(value)
			if err != nil {
				return Signature{}, err
			}
			sig.T, sig.TimeMS = value, ms
		case "v1":
			// A digest that is not 64 hex digits can never match; skipping it
			// lets a future extra value coexist with a good one.
			if len(value) != v1HexLen {
				continue
			}
			mac, err := hex.DecodeString(value) // accepts upper-case hex too
			if err != nil {
				continue
			}
			sig.V1 = append(sig.V1, mac)
		}
	}
	if !seenT {
		return Signature{}, malformed("no t")
	}
	if len(sig.V1) == 0 {
		return Signature{}, malformed("no v1 of 64 hex digits")
	}
	return sig, nil
}

// parseTimestamp accepts base-10 digits only: strconv.ParseInt alone would
// also take a sign, and "+…" or "-…" is never what WorkOS sends.
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > maxTimestampDigits {
		return 0, malformed("t must be 1 to 19 decimal digits")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, malformed("t must be decimal digits")
		}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, malformed("t is out of range")
	}
	return ms, nil
}

func malformed(why string) error {
	return membership.Errorf(membership.Unauthorized, CodeSignatureMalformed, "malformed %s header: %s", SignatureHeader, why)
}

// Verifier checks WorkOS-Signature headers against one or more secrets, so a
// secret can be rotated without downtime. It is safe for concurrent use once
// built; configure it before serving.
type Verifier struct {
	Secrets   [][]byte
	Tolerance time.Duration
	Now       func() time.Time
}

// NewVerifier returns a Verifier for the given secrets. A zero tolerance means
// DefaultTolerance and a nil now means time.Now. It refuses an empty list and
// empty or blank secrets: an empty HMAC key would let anyone sign requests, and
// a blank one is always a configuration mistake.
func NewVerifier(secrets []string, tolerance time.Duration, now func() time.Time) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("new webhook verifier: no secret configured")
	}
	if tolerance < 0 {
		return nil, errors.New("new webhook verifier: negative tolerance")
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	if now == nil {
		now = time.Now
	}
	v := &Verifier{Tolerance: tolerance, Now: now}
	for i, s := range secrets {
		if strings.TrimSpace(s) == "" {
			// The index, never the value: secrets must not reach logs.
			return nil, errors.New("new webhook verifier: secret #" + strconv.Itoa(i+1) + " is empty")
		}
		v.Secrets = append(v.Secrets, []byte(s))
	}
	return v, nil
}

// Verify reports whether header is a valid WorkOS signature of body: present,
// well-formed, stamped within ±Tolerance of now, and matching some secret.
// Failures are *membership.Error of Kind Unauthorized with codes
// signature_missing, signature_malformed, signature_stale or signature_mismatch.
// Messages never contain a signature or a secret.
func (v *Verifier) Verify(header string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return membership.Errorf(membership.Unauthorized, CodeSignatureMissing, "missing %s header", SignatureHeader)
	}
	sig, err := ParseSignatureHeader(header)
	if err != nil {
		return err
	}
	// Checked before the HMAC so replays of old requests cost no hashing.
	// time.Time.Sub saturates, so absurd timestamps cannot overflow.
	age := v.Now().Sub(time.UnixMilli(sig.TimeMS))
	if age > v.Tolerance {
		return membership.Errorf(membership.Unauthorized, CodeSignatureStale, "signature timestamp is too old (tolerance %s)", v.Tolerance)
	}
	if age < -v.Tolerance {
		return membership.Errorf(membership.Unauthorized, CodeSignatureStale, "signature timestamp is in the future (tolerance %s)", v.Tolerance)
	}
	for _, secret := range v.Secrets {
		want := computeMAC(secret, sig.T, body)
		for _, got := range sig.V1 {
			if hmac.Equal(got, want) { // constant time, unlike the v4 SDK's ==
				return nil
			}
		}
	}
	return membership.Errorf(membership.Unauthorized, CodeSignatureMismatch, "no signature matches the body")
}

// computeMAC is HMAC-SHA256 keyed with the secret's bytes over "<t>.<body>",
// t exactly as it appears in the header.
func computeMAC(secret []byte, t string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(t))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the WorkOS-Signature header WorkOS would send for body signed
// with secret at time t: "t=<unix ms>, v1=<lower-case hex>". Times before 1970
// give a negative t, which Verify rejects as malformed, as WorkOS never sends one.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	return "t=" + ts + ", v1=" + hex.EncodeToString(computeMAC([]byte(secret), ts, body))
}
