package membership_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/seatsync/seatsync/pkg/membership"
)

// FuzzNormalizeEmail: NormalizeEmail is idempotent and never panics, nor does
// ValidEmail on its result; an email ValidEmail accepts is the normalized,
// printable key its doc promises (valid UTF-8, one '@', no space, control or
// path character, at most 254 bytes), and its EmailDomain is a domain
// NormalizeDomains accepts unchanged. The committed corpus is in
// testdata/fuzz/FuzzNormalizeEmail; crashers found later belong there too.
func FuzzNormalizeEmail(f *testing.F) {
	for _, tt := range normalizeEmailTests {
		f.Add(tt.in)
	}
	for _, tt := range emailDomainTests {
		f.Add(tt.in)
	}
	for _, tt := range validEmailTests {
		f.Add(tt.in)
	}
	for _, s := range []string{
		"Bob@ACME.Test", " \u00a0bob@acme.test\u2028", "bo\u0085b@acme.test", "\xffbob@acme.test",
		"bob\x00@acme.test", "bob\r\nx@acme.test", "İ@acme.test", "\u212a@acme.test", "ß@ACME.TEST",
		"a@b@acme.test", "../../etc/passwd@acme.test", "bob%2F@acme.test", "bob@xn--bcher-kva.test",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n := membership.NormalizeEmail(in)
		if again := membership.NormalizeEmail(n); again != n {
			t.Fatalf("NormalizeEmail is not idempotent: %q -> %q -> %q", in, n, again)
		}
		if !membership.ValidEmail(n) {
			return
		}
		if !utf8.ValidString(n) {
			t.Fatalf("ValidEmail(%q) = true for invalid UTF-8", n)
		}
		if len(n) > 254 || strings.Count(n, "@") != 1 {
			t.Fatalf("ValidEmail(%q) = true: %d bytes, %d '@'", n, len(n), strings.Count(n, "@"))
		}
		if i := strings.IndexFunc(n, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' || r == '\\'
		}); i >= 0 {
			t.Fatalf("ValidEmail(%q) = true with a space, control or path character at byte %d", n, i)
		}
		domain := membership.EmailDomain(n)
		got, err := membership.NormalizeDomains([]string{domain})
		if err != nil || len(got) != 1 || got[0] != domain {
			t.Fatalf("ValidEmail(%q) = true but its domain %q is not one: NormalizeDomains = %q, %v", n, domain, got, err)
		}
	})
}
