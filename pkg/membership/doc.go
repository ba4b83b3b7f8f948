// Package membership holds seatsync's domain: organizations, plans, members,
// directory users and the seat rules of SPEC §3–4 as pure functions. It imports
// only the standard library; every other package depends on it.
package membership
