package auth

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// ServiceScope is the scope value that marks the billing system's token.
const ServiceScope = "service"

// Principal is the authenticated caller of an Admin API request.
type Principal struct {
	// Email is the token's subject, trimmed and lower-cased.
	Email string
	// Service is true for the billing system, whose token has the "service" scope.
	Service bool
}

// claims is the token body: the registered claims plus scope.
type claims struct {
	jwt.RegisteredClaims
	Scope scopes `json:"scope,omitempty"`
}

// scopes is the "scope" claim. RFC 8693 makes it one space-separated string;
// some issuers send a JSON array instead, so both decode.
type scopes []string

func (s scopes) has(want string) bool { return slices.Contains(s, want) }

// MarshalJSON writes the space-separated string form.
func (s scopes) MarshalJSON() ([]byte, error) { return json.Marshal(strings.Join(s, " ")) }

// UnmarshalJSON reads either a space-separated string or an array of strings.
func (s *scopes) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.Fields(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}
