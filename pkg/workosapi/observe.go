package workosapi

import (
	"net/url"
	"strings"
)

// Observer is told about every HTTP request the Client sends, retries
// included, for metrics; *metrics.Metrics implements it. Calls must not block.
type Observer interface {
	// WorkOSRequest reports one request: its method, its endpoint as a
	// template without ids ("/organizations/:id") and the response status,
	// or "error" when no response came.
	WorkOSRequest(method, endpoint, status string)
}

type nopObserver struct{}

func (nopObserver) WorkOSRequest(string, string, string) {}

// pathWords are the path segments of the WorkOS endpoints seatsync calls.
// Every other segment is an id and becomes ":id", so an endpoint label can
// never carry an id or grow without bound.
var pathWords = map[string]bool{
	"organizations": true, "external_id": true, "portal": true, "generate_link": true,
	"directories": true, "directory_users": true, "directory_groups": true, "events": true,
}

// endpointTemplate returns path as a template: the endpoint's own path prefix
// (from Options.Endpoint) removed and ids replaced by ":id".
func endpointTemplate(prefix, path string) string {
	path = strings.TrimPrefix(path, prefix)
	var b strings.Builder
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if pathWords[seg] {
			b.WriteString(seg)
		} else {
			b.WriteString(":id")
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// endpointPrefix is the path of the configured endpoint URL, without a final slash.
func endpointPrefix(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}
