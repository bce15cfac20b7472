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

// The patterns the checks implement, as regular expressions.
var (
	requestIDPattern   = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)
	traceparentPattern = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
)

func TestChecksMatchPatterns(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	inputs := []string{"", "a", "req-123", "abc.DEF:9/x_y", strings.Repeat("x", 128), strings.Repeat("x", 129),
		"has space", "new\nline", "quote\"", "é", "x\x00", tp, tp + "\n", tp[:54], strings.ToUpper(tp), "01" + tp[2:],
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g", "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01"}
	for i := range 55 {
		for _, c := range []byte{'0', 'f', 'g', 'F', '-', ' '} {
			b := []byte(tp)
			b[i] = c
			inputs = append(inputs, string(b))
		}
	}
	for _, in := range inputs {
		if got, want := validRequestID(in), requestIDPattern.MatchString(in); got != want {
			t.Errorf("validRequestID(%q) = %v, the pattern says %v", in, got, want)
		}
		want := traceparentPattern.MatchString(in) && in[3:35] != strings.Repeat("0", 32) && in[36:52] != strings.Repeat("0", 16)
		if got := validTraceparent(in); got != want {
			t.Errorf("validTraceparent(%q) = %v, want %v", in, got, want)
		}
	}
	for range 1000 {
		if tp := Traceparent(""); !validTraceparent(tp) || !tpFormat.MatchString(tp) {
			t.Fatalf("new traceparent %q is invalid", tp)
		}
	}
}

func TestIDs(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, tc := range []struct{ id, tp string }{{"", ""}, {"req-1", ""}, {"", tp}, {"req-1", tp}, {"bad id", "bad"}} {
		id, gotTP := IDs(tc.id, tc.tp)
		if validRequestID(tc.id) && id != tc.id || !validRequestID(id) {
			t.Errorf("IDs(%q, %q) id = %q", tc.id, tc.tp, id)
		}
		if validTraceparent(tc.tp) && gotTP != tc.tp || !tpFormat.MatchString(gotTP) && gotTP != tc.tp {
			t.Errorf("IDs(%q, %q) traceparent = %q", tc.id, tc.tp, gotTP)
		}
	}
	a, atp := IDs("", "")
	b, btp := IDs("", "")
	if a == b || atp == btp {
		t.Errorf("two calls share ids: %q %q, %q %q", a, atp, b, btp)
	}
	if n := testing.AllocsPerRun(100, func() { IDs("", "") }); n != 1 {
		t.Errorf("IDs of nothing allocates %v times, want 1", n)
	}
}
