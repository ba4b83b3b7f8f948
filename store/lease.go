package store

import (
	"context"
	"fmt"
	"time"
)

// TryLease takes or renews the named lease for holder until now+ttl. It
// succeeds when the lease is free, expired or already the holder's: the way
// one replica at a time runs the poller, a reconciliation or a scheduler.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := time.Now().UTC()
	res := s.q(ctx).Exec(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?`, name, holder, now.Add(ttl), now)
	if res.Error != nil {
		return false, fmt.Errorf("lease %s: %w", name, translate(res.Error))
	}
	return res.RowsAffected > 0, nil
}

// ReleaseLease gives the lease up if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if err := s.q(ctx).Exec("DELETE FROM leases WHERE name = ? AND holder = ?", name, holder).Error; err != nil {
		return fmt.Errorf("release lease %s: %w", name, translate(err))
	}
	return nil
}

// LeaseHeld reports whether anyone holds the named lease now.
func (s *Store) LeaseHeld(ctx context.Context, name string) (bool, error) {
	var n int64
	if err := s.q(ctx).Table("leases").Where("name = ? AND expires_at >= ?", name, time.Now().UTC()).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check lease %s: %w", name, translate(err))
	}
	return n > 0, nil
}
