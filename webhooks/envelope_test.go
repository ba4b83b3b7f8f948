package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestDecodeEnvelope_Golden decodes each event fixture and compares the
// envelope with the .golden file beside it.
func TestDecodeEnvelope_Golden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "dsync_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			env, err := DecodeEnvelope(raw)
			if err != nil {
				t.Fatalf("DecodeEnvelope(%s) = %v", file, err)
			}
			// Data must be the very bytes of the fixture, not a re-encoding.
			if !bytes.Contains(raw, env.Data) {
				t.Errorf("DecodeEnvelope(%s).Data is not a verbatim slice of the body", file)
			}
			got, err := json.MarshalIndent(env, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("DecodeEnvelope(%s):\ngot\n%s\nwant (%s)\n%s", file, got, golden, want)
			}
		})
	}
}

const minimal = `"id":"event_1","event":"dsync.user.created"`

var decodeTests = []struct {
	name        string
	in          string
	wantID      string
	wantCreated time.Time
	wantData    string
}{
	{"minimal: no data, created_at, object or context", `{` + minimal + `}`, "event_1", time.Time{}, ""},
	{"null data and created_at are absent", `{` + minimal + `,"data":null,"created_at":null,"object":null}`, "event_1", time.Time{}, ""},
	{"unknown fields allowed", `{` + minimal + `,"context":{"actor":{"id":"x"}},"new_field":[1,2]}`, "event_1", time.Time{}, ""},
	{"whitespace everywhere", " \n{ \"id\" : \"event_1\" ,\t\"event\":\"e\", \"data\" :  { } }\r\n", "event_1", time.Time{}, "{ }"},
	{"escaped id", `{"id":"event\u005f1","event":"e"}`, "event_1", time.Time{}, ""},
	{"duplicate key: last wins, as in encoding/json and jsonb", `{"id":"event_a","id":"event_b","event":"e"}`, "event_b", time.Time{}, ""},
	{"keys are case-sensitive", `{"ID":"event_x",` + minimal + `}`, "event_1", time.Time{}, ""},
	{"RFC 3339 with ms", `{` + minimal + `,"created_at":"2025-03-04T15:00:04.215Z"}`, "event_1", time.Date(2025, 3, 4, 15, 0, 4, 215e6, time.UTC), ""},
	{"RFC 3339 without fraction", `{` + minimal + `,"created_at":"2025-03-04T15:00:04Z"}`, "event_1", time.Date(2025, 3, 4, 15, 0, 4, 0, time.UTC), ""},
	{"RFC 3339 with offset, kept as UTC", `{` + minimal + `,"created_at":"2025-03-04T17:00:04.5+02:00"}`, "event_1", time.Date(2025, 3, 4, 15, 0, 4, 5e8, time.UTC), ""},
	{"RFC 3339 with ns", `{` + minimal + `,"created_at":"2025-03-04T15:00:04.123456789Z"}`, "event_1", time.Date(2025, 3, 4, 15, 0, 4, 123456789, time.UTC), ""},
	{"space form without zone is UTC", `{` + minimal + `,"created_at":"2023-04-28 20:05:31.093"}`, "event_1", time.Date(2023, 4, 28, 20, 5, 31, 93e6, time.UTC), ""},
	{"space form without fraction", `{` + minimal + `,"created_at":"2023-04-28 20:05:31"}`, "event_1", time.Date(2023, 4, 28, 20, 5, 31, 0, time.UTC), ""},
	{"T form without zone is UTC", `{` + minimal + `,"created_at":"2023-04-28T20:05:31.093"}`, "event_1", time.Date(2023, 4, 28, 20, 5, 31, 93e6, time.UTC), ""},
	// Size is the handler's limit, not the decoder's.
	{"large data", `{` + minimal + `,"data":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`, "event_1", time.Time{}, `{"x":"` + strings.Repeat("a", 2<<20) + `"}`},
}

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	for _, tt := range decodeTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := DecodeEnvelope([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeEnvelope(%.80q) = %v, want no error", tt.in, err)
			}
			if env.ID != tt.wantID || !env.CreatedAt.Equal(tt.wantCreated) || env.CreatedAt.Location() != time.UTC || string(env.Data) != tt.wantData {
				t.Errorf("DecodeEnvelope(%.80q) = {ID:%q CreatedAt:%v Data:%.40q}, want {ID:%q CreatedAt:%v Data:%.40q}",
					tt.in, env.ID, env.CreatedAt, env.Data, tt.wantID, tt.wantCreated, tt.wantData)
			}
		})
	}
}

var decodeErrorTests = []struct {
	name string
	in   string
	want string // a fragment of the message
}{
	{"empty", ``, "not a JSON object"},
	{"not JSON", `hello`, "not a JSON object"},
	{"truncated", `{"id":`, "not valid JSON"},
	{"trailing garbage", `{` + minimal + `}x`, "not valid JSON"},
	{"two objects", `{` + minimal + `}{` + minimal + `}`, "not valid JSON"},
	{"array", `[{` + minimal + `}]`, "not a JSON object"},
	{"null", `null`, "not a JSON object"},
	{"string", `"event_1"`, "not a JSON object"},
	{"byte order mark", "\ufeff{" + minimal + "}", "not a JSON object"},
	{"missing id", `{"event":"e"}`, `missing "id"`},
	{"only upper-case ID", `{"ID":"event_1","event":"e"}`, `missing "id"`},
	{"missing event", `{"id":"event_1"}`, `missing "event"`},
	{"null id", `{"id":null,"event":"e"}`, `missing "id"`},
	{"numeric id", `{"id":1,"event":"e"}`, `"id" must be a string`},
	{"object event", `{"id":"event_1","event":{}}`, `"event" must be a string`},
	{"empty id", `{"id":"","event":"e"}`, `"id" is empty`},
	{"empty event", `{"id":"event_1","event":""}`, `"event" is empty`},
	{"id with a space", `{"id":"event 1","event":"e"}`, "printable ASCII"},
	{"id with a newline", `{"id":"event_1\n","event":"e"}`, "printable ASCII"},
	{"non-ASCII event", `{"id":"event_1","event":"dsync.usér"}`, "printable ASCII"},
	{"id too long", `{"id":"` + strings.Repeat("a", 256) + `","event":"e"}`, "longer than 255"},
	{"numeric object", `{` + minimal + `,"object":1}`, `"object" must be a string`},
	{"data string", `{` + minimal + `,"data":"x"}`, `"data" must be an object`},
	{"data array", `{` + minimal + `,"data":[]}`, `"data" must be an object`},
	{"numeric created_at", `{` + minimal + `,"created_at":1742889835391}`, `"created_at" must be a string`},
	{"created_at not a time", `{` + minimal + `,"created_at":"yesterday"}`, "not an RFC 3339 time"},
	{"created_at date only", `{` + minimal + `,"created_at":"2025-03-04"}`, "not an RFC 3339 time"},
	{"created_at before year 1 in UTC", `{` + minimal + `,"created_at":"0001-01-01T00:00:00+01:00"}`, "not an RFC 3339 time"},
	{"invalid UTF-8 in id", "{\"id\":\"event_\xff\",\"event\":\"e\"}", "not valid UTF-8"},
	{"invalid UTF-8 in data", "{" + minimal + ",\"data\":{\"n\":\"\xc3\x28\"}}", "not valid UTF-8"},
	{"too deep", `{` + minimal + `,"data":{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`, "not valid JSON"},
}

func TestDecodeEnvelope_errors(t *testing.T) {
	t.Parallel()
	for _, tt := range decodeErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := DecodeEnvelope([]byte(tt.in))
			var me *membership.Error
			if !errors.As(err, &me) || me.Kind != membership.Invalid || me.Code != CodeInvalidEnvelope {
				t.Fatalf("DecodeEnvelope(%.80q) = %+v, %v; want Kind invalid, code %s", tt.in, env, err, CodeInvalidEnvelope)
			}
			if !strings.Contains(me.Message, tt.want) {
				t.Errorf("DecodeEnvelope(%.80q) message = %q, want it to contain %q", tt.in, me.Message, tt.want)
			}
		})
	}
}

func TestEnvelope_InboxEvent(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"id":"event_1","event":"dsync.deleted","created_at":"2025-03-25T08:03:55.270Z"}`)
	env, err := DecodeEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := env.InboxEvent(raw, membership.SourceWebhook)
	want := membership.InboxEvent{EventID: "event_1", Type: "dsync.deleted", CreatedAt: time.Date(2025, 3, 25, 8, 3, 55, 270e6, time.UTC), Payload: raw, Source: membership.SourceWebhook}
	if got.EventID != want.EventID || got.Type != want.Type || !got.CreatedAt.Equal(want.CreatedAt) || !bytes.Equal(got.Payload, raw) || got.Source != want.Source {
		t.Errorf("InboxEvent = %+v, want %+v", got, want)
	}
}
