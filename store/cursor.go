package store

import (
	"context"
	"fmt"
	"time"
)

// EventCursor returns the named Events API cursor: the id of the last event
// stored from that stream, or "" when there is none yet.
func (s *Store) EventCursor(ctx context.Context, name string) (string, error) {
	var ids []string
	if err := s.q(ctx).Raw("SELECT after_id FROM event_cursors WHERE name = ?", name).Find(&ids).Error; err != nil {
		return "", fmt.Errorf("get event cursor %s: %w", name, translate(err))
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// SetEventCursor moves the named cursor to afterID; "" forgets it, so the
// stream starts over. Call it in the transaction that stored the events up to
// afterID, so the cursor never passes an event that is not committed.
func (s *Store) SetEventCursor(ctx context.Context, name, afterID string) error {
	var err error
	if afterID == "" {
		err = s.q(ctx).Exec("DELETE FROM event_cursors WHERE name = ?", name).Error
	} else {
		err = s.q(ctx).Exec(`INSERT INTO event_cursors (name, after_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET after_id = excluded.after_id, updated_at = excluded.updated_at`,
			name, afterID, time.Now().UTC()).Error
	}
	if err != nil {
		return fmt.Errorf("set event cursor %s: %w", name, translate(err))
	}
	return nil
}
