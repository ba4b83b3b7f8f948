package workosapi

import (
	"bytes"
	"encoding/json"
)

// encodeWithoutEmpty replaces the SDK clients' JSONEncode. The v4 option
// structs lack omitempty (reference §9.3, §10.3): an unset success_url goes out
// as "" and unset domains as null, and how WorkOS treats those is not
// documented. Dropping top-level "" and null values sends what the API
// documents: absent means "use the default".
func encodeWithoutEmpty(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return b, nil // not an object: nothing to drop
	}
	for k, raw := range fields {
		if bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte(`""`)) {
			delete(fields, k)
		}
	}
	return json.Marshal(fields)
}
