package applier

import (
	"context"
	"encoding/json"

	"github.com/seatsync/seatsync/store"
)

// eventAttrs are the log attributes of a line about ev: its id and type, and
// its directory and plan where they can be known. The directory comes from
// the payload (data.directory_id, or data.id of a directory event), the plan
// from the directory's stored link; neither is an email or a secret.
// It runs on the failure paths only, so the extra read costs little.
func (a *Applier) eventAttrs(ctx context.Context, tx *store.Store, ev *store.InboxRow) []any {
	attrs := []any{"event_id", ev.EventID, "event_type", ev.EventType}
	dirID := ev.DirectoryID
	if dirID == "" {
		dirID = payloadDirectory(ev.Payload)
	}
	if dirID == "" {
		return attrs
	}
	attrs = append(attrs, "directory_id", dirID)
	planID := ev.PlanID
	if planID == "" {
		if dirs, err := tx.Directories(ctx, []string{dirID}); err == nil {
			planID = dirs[dirID].PlanID
		}
	}
	if planID != "" {
		attrs = append(attrs, "plan_id", planID)
	}
	return attrs
}

// payloadDirectory returns the directory an event's payload names, or "".
func payloadDirectory(payload []byte) string {
	var env struct {
		Data struct {
			ID          string `json:"id"`
			Object      string `json:"object"`
			DirectoryID string `json:"directory_id"`
		} `json:"data"`
	}
	if json.Unmarshal(payload, &env) != nil {
		return ""
	}
	if env.Data.DirectoryID != "" {
		return env.Data.DirectoryID
	}
	if env.Data.Object == "directory" {
		return env.Data.ID
	}
	return ""
}
