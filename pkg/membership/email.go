package membership

import "strings"

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
