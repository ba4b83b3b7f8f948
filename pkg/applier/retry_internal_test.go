package applier

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	prev := time.Duration(0)
	for attempts := 1; attempts <= 100; attempts++ {
		for _, ceiling := range []time.Duration{time.Minute, 5 * time.Minute} {
			d := retryDelay(attempts, ceiling)
			if d <= 0 || d > ceiling {
				t.Fatalf("retryDelay(%d, %v) = %v, want in (0, ceiling]", attempts, ceiling, d)
			}
		}
		d := retryDelay(attempts, 5*time.Minute)
		if d < prev {
			t.Fatalf("retryDelay(%d) = %v < retryDelay(%d) = %v: backoff must not shrink", attempts, d, attempts-1, prev)
		}
		prev = d
	}
	if d := retryDelay(1, time.Hour); d != 2*time.Second {
		t.Errorf("first retry after %v, want 2s", d)
	}
	if d := retryDelay(2, time.Hour); d != 4*time.Second {
		t.Errorf("second retry after %v, want 4s", d)
	}
	if d := retryDelay(1000, 5*time.Minute); d != 5*time.Minute {
		t.Errorf("retryDelay(1000) = %v, want the 5m ceiling", d)
	}
}
