package protodoc_test

import (
	"testing"

	echov1 "github.com/toolwire/toolwire/gen/go/examples/echo/v1"
	"github.com/toolwire/toolwire/protodoc"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" Returns the text.\n", "Returns the text."},
		{" First line,\n second line.\n", "First line,\nsecond line."},
		{" Indented:\n   code\n", "Indented:\n  code"},
		{"\n\n", ""},
	} {
		if got := protodoc.Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The generated *_toolwire.pb.go files register comments that the compiled-in
// descriptors lack.
func TestLeadingFromGeneratedCode(t *testing.T) {
	svc := echov1.File_examples_echo_v1_echo_proto.Services().Get(0)
	if got := protodoc.Leading(svc.Methods().ByName("Echo")); got != "Returns the text it is given." {
		t.Errorf("Echo's comment = %q", got)
	}
	field := (&echov1.StreamRequest{}).ProtoReflect().Descriptor().Fields().ByName("interval_ms")
	if got := protodoc.Leading(field); got == "" {
		t.Error("interval_ms has no comment")
	}
}
