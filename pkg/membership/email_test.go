package membership_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SPEC §1: a member is keyed by the normalized email (trimmed, lower-cased).
type normalizeEmailTest struct {
	name, in, want string
}

var normalizeEmailTests = []normalizeEmailTest{
	{"already normalized", "bob@acme.test", "bob@acme.test"},
	{"lower-cased", "Bob@ACME.Test", "bob@acme.test"},
	{"trimmed", " \tbob@acme.test\n", "bob@acme.test"},
	{"empty stays empty", "", ""},
	{"inner spaces are kept (ValidEmail rejects them)", "bo b@acme.test", "bo b@acme.test"},
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for _, tt := range normalizeEmailTests {
		if got := membership.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("%s: NormalizeEmail(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

type emailDomainTest struct {
	name, in, want string
}

var emailDomainTests = []emailDomainTest{
	{"plain address", "bob@acme.test", "acme.test"},
	{"no @", "bob", ""},
	{"empty", "", ""},
	{"the last @ counts", "a@b@acme.test", "acme.test"},
	{"trailing @", "bob@", ""},
}

func TestEmailDomain(t *testing.T) {
	t.Parallel()
	for _, tt := range emailDomainTests {
		if got := membership.EmailDomain(tt.in); got != tt.want {
			t.Errorf("%s: EmailDomain(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

type validEmailTest struct {
	name string
	in   string
	want bool
}

var validEmailTests = []validEmailTest{
	{"plain address", "bob@acme.test", true},
	{"plus and dots in the local part", "bob.smith+seats@mail.acme.test", true},
	{"no @", "bob.acme.test", false},
	{"two @", "bob@x@acme.test", false},
	{"empty local part", "@acme.test", false},
	{"empty domain", "bob@", false},
	{"domain without a dot", "bob@localhost", false},
	{"domain with a space", "bob@acme .test", false},
	{"upper-case domain (not normalized)", "bob@ACME.test", false},
	{"space in the local part", "bo b@acme.test", false},
	{"tab in the local part", "bo\tb@acme.test", false},
	{"DEL in the local part", "bo\x7fb@acme.test", false},
	{"slash in the local part", "bob/x@acme.test", false},
	{"backslash in the local part", `bob\x@acme.test`, false},
	{"longer than 254 bytes", strings.Repeat("a", 245) + "@acme.test", false},
	{"exactly 254 bytes", strings.Repeat("a", 244) + "@acme.test", true},
	{"empty", "", false},
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	for _, tt := range validEmailTests {
		if got := membership.ValidEmail(tt.in); got != tt.want {
			t.Errorf("%s: ValidEmail(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

type normalizeDomainsTest struct {
	name    string
	in      []string
	want    []string
	wantErr bool
}

var normalizeDomainsTests = []normalizeDomainsTest{
	{"nil is an empty list (any domain)", nil, []string{}, false},
	{"lower-cased and trimmed", []string{" ACME.test "}, []string{"acme.test"}, false},
	{"duplicates dropped, first order kept", []string{"b.test", "a.test", "B.test"}, []string{"b.test", "a.test"}, false},
	{"subdomains are plain host names", []string{"eng.acme.test"}, []string{"eng.acme.test"}, false},
	{"hyphens inside labels", []string{"my-co.example.com"}, []string{"my-co.example.com"}, false},
	{"empty string rejected", []string{""}, nil, true},
	{"no dot rejected", []string{"localhost"}, nil, true},
	{"an email is not a domain", []string{"bob@acme.test"}, nil, true},
	{"a URL is not a domain", []string{"https://acme.test"}, nil, true},
	{"leading hyphen rejected", []string{"-acme.test"}, nil, true},
	{"wildcard rejected", []string{"*.acme.test"}, nil, true},
	{"one bad domain rejects the list", []string{"acme.test", "bad domain"}, nil, true},
}

func TestNormalizeDomains(t *testing.T) {
	t.Parallel()
	for _, tt := range normalizeDomainsTests {
		got, err := membership.NormalizeDomains(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: NormalizeDomains(%q) = %q, want an error", tt.name, tt.in, got)
			} else if k, c := membership.ErrorKind(err), membership.ErrorCode(err); k != membership.Invalid || c != "invalid_domain" {
				t.Errorf("%s: NormalizeDomains(%q) error = %v (kind %v, code %q), want kind invalid, code invalid_domain", tt.name, tt.in, err, k, c)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: NormalizeDomains(%q) = %q, %v; want %q, nil", tt.name, tt.in, got, err, tt.want)
		}
	}
}

type validIDTest struct {
	name string
	in   string
	want bool
}

var validIDTests = []validIDTest{
	{"letters, digits, _ . -", "plan_Team-1.v2", true},
	{"one character", "p", true},
	{"128 characters", strings.Repeat("a", 128), true},
	{"129 characters", strings.Repeat("a", 129), false},
	{"empty", "", false},
	{"slash (path injection)", "plan/../x", false},
	{"space", "plan 1", false},
	{"percent (pre-escaped)", "plan%2F1", false},
	{"query characters", "plan?x=1", false},
	{"non-ASCII", "plän", false},
	{"trailing newline", "plan\n", false},
}

func TestValidID(t *testing.T) {
	t.Parallel()
	for _, tt := range validIDTests {
		if got := membership.ValidID(tt.in); got != tt.want {
			t.Errorf("%s: ValidID(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"Ada Lovelace", "Ada Lovelace"},
		{"Bob\nAdmin: yes", "BobAdmin: yes"},
		{"Eve\u0085\u2028\u2029\x7f\x00", "Eve"},
		{"bad \xff utf8", "bad  utf8"},
		{"Zoë", "Zoë"},
	} {
		if got := membership.CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := membership.CleanName(strings.Repeat("é", 150)); len(got) > 200 || !utf8.ValidString(got) {
		t.Errorf("CleanName of a long name = %d bytes, valid %v; want ≤ 200 valid bytes", len(got), utf8.ValidString(got))
	}
}
