package membership

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Organization is a customer company (tenant).
type Organization struct {
	ID      string
	Name    string
	Domains []string // allowed email domains; empty = any
}

// PlanSpec is what the billing system says about a plan (PUT /api/v1/plans/{id}).
type PlanSpec struct {
	ID                   string
	OrganizationID       string
	Name                 string
	Admins               []string
	TestModeLimit        *int // nil = the configured default
	ScopingGroups        []string
	WorkOSOrganizationID string
}

// idPattern restricts ids we mint URLs and WorkOS external ids from to URL-safe
// characters (the v4 SDK inserts path parameters without escaping).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// ValidID reports whether s can be an organization or plan id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// NormalizeDomains lower-cases, trims and de-duplicates domains and rejects
// anything that is not a plain host name.
func NormalizeDomains(ds []string) ([]string, error) {
	out := make([]string, 0, len(ds))
	seen := map[string]bool{}
	for _, d := range ds {
		d = strings.ToLower(strings.TrimSpace(d))
		if !domainPattern.MatchString(d) {
			return nil, Errorf(Invalid, "invalid_domain", "%q is not a domain name", d)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out, nil
}

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$`)

// ValidEmail reports whether a normalized email is acceptable as a member key:
// valid UTF-8, one '@', a domain, no spaces or control characters (Unicode
// ones included: NEL, no-break and other spaces, line separators), no slash
// or backslash.
func ValidEmail(e string) bool {
	if len(e) > 254 || strings.Count(e, "@") != 1 || !utf8.ValidString(e) {
		return false
	}
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || !domainPattern.MatchString(domain) {
		return false
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || r == '/' || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
