package webhooks

import (
	"bytes"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/seatsync/seatsync/pkg/membership"
)

// CodeInvalidEnvelope is the code of every DecodeEnvelope error (Kind Invalid).
const CodeInvalidEnvelope = "invalid_envelope"

// maxFieldLen bounds id, event and object: WorkOS ids are about 33 bytes, and
// the values end up in database keys and log lines.
const maxFieldLen = 255

// maxTimeLen bounds created_at before any layout is tried.
const maxTimeLen = 64

// createdAtLayouts are tried in order. RFC 3339 is what the API sends; some
// WorkOS prose samples show "2023-04-28 20:05:31.093" with no zone, read as UTC.
// A fractional second is accepted by every layout even where none is written.
var createdAtLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// Envelope is the outer object of a WorkOS event, the same in a webhook body
// and in an Events API page (reference/workos.md §4). Data is kept raw: the
// applier decodes it by event type.
type Envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Object    string          `json:"object,omitempty"`
}

// DecodeEnvelope decodes one event. The body must be a UTF-8 JSON object with
// non-empty string id and event (at most 255 printable ASCII bytes). data, if
// present and not null, must be an object; created_at, if present and not null,
// a time in RFC 3339 or "2006-01-02 15:04:05.000" (UTC) form. Unknown fields are
// allowed. Keys match exactly (encoding/json's struct decoding would also take
// "ID"), and for a duplicated key the last value wins, as in encoding/json and
// Postgres jsonb. Errors are *membership.Error of Kind Invalid.
func DecodeEnvelope(body []byte) (Envelope, error) {
	var env Envelope
	if !utf8.Valid(body) {
		// encoding/json would silently replace bad bytes with U+FFFD.
		return env, invalidEnvelope("body is not valid UTF-8")
	}
	// Unmarshal into a map accepts null as an empty map, so look first.
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return env, invalidEnvelope("body is not a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return env, invalidEnvelope("body is not valid JSON")
	}
	var err error
	if env.ID, err = stringField(fields, "id", true); err != nil {
		return Envelope{}, err
	}
	if env.Event, err = stringField(fields, "event", true); err != nil {
		return Envelope{}, err
	}
	if env.Object, err = stringField(fields, "object", false); err != nil {
		return Envelope{}, err
	}
	if data, ok := fields["data"]; ok && !isNull(data) {
		if data[0] != '{' { // RawMessage from Unmarshal has no leading space
			return Envelope{}, invalidEnvelope(`"data" must be an object`)
		}
		env.Data = data
	}
	if env.CreatedAt, err = createdAt(fields["created_at"]); err != nil {
		return Envelope{}, err
	}
	return env, nil
}

// InboxEvent returns the inbox row for this envelope; raw is the body exactly
// as received, so the signature can still be checked against it later.
func (e Envelope) InboxEvent(raw []byte, src membership.Source) membership.InboxEvent {
	return membership.InboxEvent{EventID: e.ID, Type: e.Event, CreatedAt: e.CreatedAt, Payload: raw, Source: src}
}

// DirectoryID returns the directory the event is about, for log lines:
// data.directory_id of user and group events, data.id of directory events.
// It is empty when data names none or the value is not a plausible id.
func (e Envelope) DirectoryID() string {
	var d struct {
		ID          string `json:"id"`
		Object      string `json:"object"`
		DirectoryID string `json:"directory_id"`
	}
	if len(e.Data) == 0 || json.Unmarshal(e.Data, &d) != nil {
		return ""
	}
	id := d.DirectoryID
	if id == "" && d.Object == "directory" {
		id = d.ID
	}
	if len(id) > maxFieldLen {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return "" // the value goes into log lines: printable ASCII only
		}
	}
	return id
}

// stringField returns fields[name] as a printable-ASCII string. Absent or null
// is an error only when required.
func stringField(fields map[string]json.RawMessage, name string, required bool) (string, error) {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		if required {
			return "", invalidEnvelope("missing %q", name)
		}
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", invalidEnvelope("%q must be a string", name)
	}
	if s == "" && required {
		return "", invalidEnvelope("%q is empty", name)
	}
	if len(s) > maxFieldLen {
		return "", invalidEnvelope("%q is longer than %d bytes", name, maxFieldLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", invalidEnvelope("%q must be printable ASCII without spaces", name)
		}
	}
	return s, nil
}

// createdAt parses created_at leniently. Absent or null gives the zero time: the
// field orders events (SPEC §4.3) but its absence must not block storage.
func createdAt(raw json.RawMessage) (time.Time, error) {
	if raw == nil || isNull(raw) {
		return time.Time{}, nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return time.Time{}, invalidEnvelope(`"created_at" must be a string`)
	}
	if len(s) <= maxTimeLen {
		for _, layout := range createdAtLayouts {
			t, err := time.Parse(layout, s)
			if err != nil {
				continue
			}
			// A zone offset can push year 0000 or 9999 out of the range
			// that JSON and SQL timestamps can hold.
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				break
			}
			return t, nil
		}
	}
	return time.Time{}, invalidEnvelope(`"created_at" is not an RFC 3339 time`)
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func invalidEnvelope(format string, args ...any) error {
	return membership.Errorf(membership.Invalid, CodeInvalidEnvelope, "invalid event envelope: "+format, args...)
}
