package workostest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// call sends one request to the fake with its API key (unless key is given).
func call(t *testing.T, s *Server, method, path string, body any, key ...string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	bearer := s.APIKey
	if len(key) > 0 {
		bearer = key[0]
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// list is the WorkOS list shape with raw items.
type list struct {
	Object       string            `json:"object"`
	Data         []json.RawMessage `json:"data"`
	ListMetadata struct {
		Before *string `json:"before"`
		After  *string `json:"after"`
	} `json:"list_metadata"`
}

func decodeList(t *testing.T, b []byte) list {
	t.Helper()
	var l list
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("decode list: %v\n%s", err, b)
	}
	if l.Object != "list" {
		t.Fatalf("object = %q, want list", l.Object)
	}
	return l
}

func ids(t *testing.T, items []json.RawMessage) []string {
	t.Helper()
	out := make([]string, 0, len(items))
	for _, raw := range items {
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.ID)
	}
	return out
}
