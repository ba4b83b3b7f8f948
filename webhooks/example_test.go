package webhooks_test

import (
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/webhooks"
)

func ExampleVerifier_Verify() {
	// A pinned clock keeps the example reproducible; a server passes nil (time.Now).
	now := time.UnixMilli(1742889840000)
	// Two secrets during a rotation: requests signed with either are accepted.
	v, err := webhooks.NewVerifier([]string{"old-secret", "new-secret"}, 5*time.Minute, func() time.Time { return now })
	if err != nil {
		panic(err)
	}
	body := []byte(`{"id":"event_01JQ658PR6PZXHS4CQE2ABDHPK","event":"dsync.deleted"}`)
	header := webhooks.Sign("new-secret", now.Add(-2*time.Second), body)
	fmt.Println(header[:len("t=1742889838000")])

	fmt.Println(v.Verify(header, body))
	fmt.Println(membership.ErrorCode(v.Verify(header, []byte(`{"tampered":true}`))))
	fmt.Println(membership.ErrorCode(v.Verify("", body)))
	fmt.Println(membership.ErrorCode(v.Verify(webhooks.Sign("new-secret", now.Add(-time.Hour), body), body)))
	// Output:
	// t=1742889838000
	// <nil>
	// signature_mismatch
	// signature_missing
	// signature_stale
}
