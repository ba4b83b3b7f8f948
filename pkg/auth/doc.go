// Package auth authenticates callers of the Admin API (SPEC §8).
//
// A caller presents "Authorization: Bearer <JWT>". The token is signed either
// with a shared HS256 secret or by a key published in a JSON Web Key Set
// (RS256 or ES256). Its "sub" is the admin's email; a "scope" containing
// "service" marks the billing system. Verifier checks the signature, the
// algorithm, the time claims and, when configured, the issuer and audience,
// and turns the token into a Principal. Deciding what a Principal may do is
// left to the handlers.
//
// Every rejection is a *membership.Error of Kind Unauthorized; the central
// error handler in pkg/server turns it into a 401.
package auth
