package membership

import (
	"strings"
	"unicode"
)

// NormalizeEmail trims and lower-cases an email, the key of a Member (SPEC §1).
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// EmailDomain returns the part after the last '@' of a normalized email, or "".
func EmailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return email[i+1:]
}

// CleanName makes a display name from a directory safe to store, show and
// log: no control characters or line separators (they would start new lines
// in logs and pages), valid UTF-8, at most 200 bytes.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}
