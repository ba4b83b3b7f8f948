package server

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seatsync/seatsync/pkg/membership"
)

// FuzzCursor: decodeCursor never panics; what it accepts is at most 512
// bytes of valid UTF-8 without ASCII control characters (it becomes a query
// parameter: Postgres refuses NUL and invalid UTF-8 in text, which must be a
// 400, not a 500); every other input is an invalid_cursor error; and every
// position the store can hand out (a normalized email or an audit id)
// survives encodeCursor → decodeCursor unchanged. The committed corpus is in
// testdata/fuzz/FuzzCursor; crashers found later belong there too.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{
		"", "YWxpY2VAYWNtZS50ZXN0", encodeCursor("bob@acme.test"), encodeCursor("12345"), "AA", "_w", "!!!", "YQ==",
		"YQ", "Y", "YW\nxp", encodeCursor(strings.Repeat("a", 512)), encodeCursor(strings.Repeat("a", 513)),
		encodeCursor("a'; DROP TABLE members;--"), encodeCursor("\x00"), "%2F%2F", "../../",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pos, err := decodeCursor(in)
		if err != nil {
			if membership.ErrorKind(err) != membership.Invalid || membership.ErrorCode(err) != "invalid_cursor" {
				t.Fatalf("decodeCursor(%q) error = %v, want an invalid_cursor error of Kind Invalid", in, err)
			}
		} else if len(pos) > 512 || !validPosition(pos) {
			t.Fatalf("decodeCursor(%q) = %q (%d bytes), want at most 512 bytes of UTF-8 without ASCII controls", in, pos, len(pos))
		}

		// in read as a position: a store position round-trips, anything
		// else is refused on the way back in.
		back, err := decodeCursor(encodeCursor(in))
		switch {
		case len(in) <= 512 && validPosition(in):
			if err != nil || back != in {
				t.Fatalf("decodeCursor(encodeCursor(%q)) = %q, %v; want it back", in, back, err)
			}
		case err == nil:
			t.Fatalf("decodeCursor(encodeCursor(%q)) = %q, want an error", in, back)
		}
		if email := membership.NormalizeEmail(in); membership.ValidEmail(email) {
			if back, err := decodeCursor(encodeCursor(email)); err != nil || back != email {
				t.Fatalf("the cursor of email %q decodes to %q, %v", email, back, err)
			}
		}
	})
}

// validPosition is what decodeCursor must accept inside the length limit.
func validPosition(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
