// Package webhooks receives WorkOS Directory Sync webhooks: it verifies the
// WorkOS-Signature header (Verifier, Sign), decodes the event envelope
// (DecodeEnvelope) and records each delivery in the inbox (Handler), and does
// nothing else, so a delivery is answered as soon as it is durably stored.
//
// The verifier is our own rather than the v4 SDK's ValidatePayload, which
// panics on short headers, accepts timestamps in the future, compares with ==
// and knows a single secret (reference/workos.md §3). It parses the header by
// key, checks the timestamp in both directions and accepts any of several
// secrets, so a secret can be rotated without downtime.
package webhooks
