package loadgen

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type sseEvent struct{ Event, Data string }

func readAllEvents(t *testing.T, r io.Reader) ([]sseEvent, error) {
	t.Helper()
	s := newSSEReader(r)
	var got []sseEvent
	for {
		ev, data, err := s.next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, sseEvent{string(ev), string(data)})
	}
}

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 40<<10) // longer than the reader's buffer
	tests := []struct {
		name string
		in   string
		want []sseEvent
	}{
		{"empty", "", nil},
		{"one event", "event: message\ndata: {\"a\":1}\n\n", []sseEvent{{"message", `{"a":1}`}}},
		{"no event type", "data: x\n\n", []sseEvent{{"", "x"}}},
		{"no space after colon", "data:x\n\n", []sseEvent{{"", "x"}}},
		{"only the first space is dropped", "data:  x\n\n", []sseEvent{{"", " x"}}},
		{"CRLF", "event: message\r\ndata: x\r\n\r\n", []sseEvent{{"message", "x"}}},
		{"multi-line data", "data: a\ndata: b\ndata:\n\n", []sseEvent{{"", "a\nb\n"}}},
		{"empty data line dispatches", "data\n\n", []sseEvent{{"", ""}}},
		{"comments, id and retry are skipped", ": ping\nid: 7\nretry: 100\ndata: x\n\n", []sseEvent{{"", "x"}}},
		{"blank lines without data dispatch nothing", "\n\nevent: ignored\n\ndata: y\n\n", []sseEvent{{"", "y"}}},
		{"event type does not leak into the next event", "event: a\ndata: 1\n\ndata: 2\n\n", []sseEvent{{"a", "1"}, {"", "2"}}},
		{"unterminated last event is dropped", "data: 1\n\ndata: 2\n", []sseEvent{{"", "1"}}},
		{"unterminated last line is dropped", "data: 1\n\ndata: 2", []sseEvent{{"", "1"}}},
		{"long line", "data: " + long + "\n\n", []sseEvent{{"", long}}},
		{"unknown field", "foo: bar\ndata: z\n\n", []sseEvent{{"", "z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, r := range map[string]io.Reader{
				"whole":        strings.NewReader(tt.in),
				"byte by byte": iotest.OneByteReader(strings.NewReader(tt.in)),
			} {
				got, err := readAllEvents(t, r)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("%s: events (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestSSEReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: 1\n\ndata: 2"), iotest.ErrReader(boom))
	got, err := readAllEvents(t, r)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
	if diff := cmp.Diff([]sseEvent{{"", "1"}}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestSSEReaderReuse(t *testing.T) {
	s := newSSEReader(strings.NewReader("data: first\n\n"))
	if _, d, err := s.next(); err != nil || string(d) != "first" {
		t.Fatalf("next = %q, %v", d, err)
	}
	s.reset(strings.NewReader("event: e\ndata: second\n\n"))
	ev, d, err := s.next()
	if err != nil || string(ev) != "e" || string(d) != "second" {
		t.Fatalf("after reset: next = %q %q, %v", ev, d, err)
	}
}
