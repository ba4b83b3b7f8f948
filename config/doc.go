// Package config loads seatsync's settings from an optional YAML file and
// SEATSYNC_* environment variables into a typed [Config], and validates them.
//
// Every key, its default and its environment variable are listed in SPEC §10
// and mirrored by one table in defaults.go. Environment variables override the
// file; lists from the environment are comma-separated and durations use Go
// syntax ("90s", "10m"). Errors name the offending key, for example
// "config: webhooks.secrets: required when env=production".
//
// Only cmd/seatsync imports this package; it hands plain values to the
// constructors of the other packages. Config redacts its secrets when logged
// or printed.
package config
