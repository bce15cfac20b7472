package observe

import (
	"regexp"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	a, b := RequestID(""), RequestID("")
	if a == b || a == "" {
		t.Errorf("new ids %q and %q", a, b)
	}
	for _, tc := range []struct{ in, want string }{
		{"req-123", "req-123"},
		{"abc.DEF:9/x_y", "abc.DEF:9/x_y"},
	} {
		if got := RequestID(tc.in); got != tc.want {
			t.Errorf("RequestID(%q) = %q", tc.in, got)
		}
	}
	for _, bad := range []string{"has space", "new\nline", strings.Repeat("x", 129), "quote\""} {
		if got := RequestID(bad); got == bad {
			t.Errorf("RequestID kept the unsafe id %q", bad)
		}
	}
}

var tpFormat = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`)

func TestTraceparent(t *testing.T) {
	const valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if got := Traceparent(valid); got != valid {
		t.Errorf("valid traceparent replaced: %q", got)
	}
	for _, bad := range []string{
		"",
		"garbage",
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace id
		"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero parent id
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // unknown version
	} {
		got := Traceparent(bad)
		if got == bad || !tpFormat.MatchString(got) {
			t.Errorf("Traceparent(%q) = %q, want a fresh valid one", bad, got)
		}
	}
	if Traceparent("") == Traceparent("") {
		t.Error("two new traces share an id")
	}
}
