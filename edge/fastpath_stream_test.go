package edge

import (
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// events splits an SSE body into its data lines.
func events(t *testing.T, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ev := range strings.Split(strings.TrimSuffix(body, "\n\n"), "\n\n") {
		if ev == "" {
			continue
		}
		name, data, ok := strings.Cut(ev, "\n")
		if !ok || name != "event: message" || !strings.HasPrefix(data, "data: ") {
			t.Fatalf("malformed event %q", ev)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &m); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		out = append(out, m)
	}
	return out
}

func TestStreamSinkLogLevels(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		level string
		want  []string // levels sent, of debug, warning, emergency
	}{
		{"", nil}, // no level set: nothing, as the SDK does
		{"debug", []string{"debug", "warning", "emergency"}},
		{"warning", []string{"warning", "emergency"}},
		{"emergency", []string{"emergency"}},
	} {
		rec := httptest.NewRecorder()
		lv := noLogs
		if tc.level != "" {
			lv = logLevels[tc.level]
		}
		s := newStreamSink(rec, "", lv)
		for _, l := range []string{"debug", "warning", "emergency"} {
			if err := s.Log(ctx, mcpLevel(l), "lg", "msg \"x\"\n"); err != nil {
				t.Fatal(err)
			}
		}
		s.finish(nil)
		var got []string
		for _, m := range events(t, rec.Body.String()) {
			p := m["params"].(map[string]any)
			if m["method"] != "notifications/message" || p["logger"] != "lg" || p["data"] != "msg \"x\"\n" {
				t.Errorf("level %q: event %v", tc.level, m)
			}
			got = append(got, p["level"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("level %q: sent %v, want %v", tc.level, got, tc.want)
		}
	}
}

func TestStreamSinkProgress(t *testing.T) {
	ctx := context.Background()
	rec := httptest.NewRecorder()
	s := newStreamSink(rec, `"tok"`, noLogs)
	for _, p := range []struct {
		progress, total float64
		msg             string
	}{{1, 0, ""}, {0.5, 3, "half é"}, {1e-7, 1e21, ""}, {123456789, 0, ""}} {
		if err := s.Progress(ctx, p.progress, p.total, p.msg); err != nil {
			t.Fatal(err)
		}
	}
	s.finish([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	evs := events(t, rec.Body.String())
	if len(evs) != 5 {
		t.Fatalf("%d events, want 4 progress and the answer:\n%s", len(evs), rec.Body)
	}
	want := []map[string]any{
		{"progressToken": "tok", "progress": 1.0},
		{"progressToken": "tok", "progress": 0.5, "total": 3.0, "message": "half é"},
		{"progressToken": "tok", "progress": 1e-7, "total": 1e21},
		{"progressToken": "tok", "progress": 123456789.0},
	}
	for i, w := range want {
		p := evs[i]["params"].(map[string]any)
		if evs[i]["method"] != "notifications/progress" || len(p) != len(w) {
			t.Errorf("event %d: %v, want params %v", i, evs[i], w)
			continue
		}
		for k, v := range w {
			if p[k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, p[k], v)
			}
		}
	}
	if evs[4]["id"] != 1.0 {
		t.Errorf("last event %v, want the answer", evs[4])
	}
	// Without a token, progress is not sent.
	rec = httptest.NewRecorder()
	s = newStreamSink(rec, "", noLogs)
	_ = s.Progress(ctx, 1, 2, "")
	if s.started() || rec.Body.Len() != 0 {
		t.Errorf("progress sent without a token: %q", rec.Body)
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1e-6, 1e-7, 123456.789, 1e20, 1e21, 1.5e300, -2.5e-9, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func mcpLevel(s string) mcp.LoggingLevel { return mcp.LoggingLevel(s) }
