package loadgen

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMembers(t *testing.T) {
	tests := []struct {
		in      string
		want    []string // key=value pairs
		wantErr bool
	}{
		{in: `{}`},
		{in: ` { } `},
		{in: `{"a":1}`, want: []string{`"a"=1`}},
		{in: `{"jsonrpc":"2.0","id":12,"result":{"content":[{"type":"text","text":"}]\"{"}],"x":null}}`,
			want: []string{`"jsonrpc"="2.0"`, `"id"=12`, `"result"={"content":[{"type":"text","text":"}]\"{"}],"x":null}`}},
		{in: "{ \"a\" : [1, {\"b\": \"\\\\\"}] ,\n\"c\":true }", want: []string{`"a"=[1, {"b": "\\"}]`, `"c"=true`}},
		{in: `{"a":-1.5e3,"b":false}`, want: []string{`"a"=-1.5e3`, `"b"=false`}},
		{in: `[1]`, wantErr: true},
		{in: `{"a":1`, wantErr: true},
		{in: `{"a":"unterminated}`, wantErr: true},
		{in: `{"a":{"b":1}`, wantErr: true},
		{in: `{"a" 1}`, wantErr: true},
		{in: `{"a":}`, wantErr: true},
		{in: `{a:1}`, wantErr: true},
		{in: ``, wantErr: true},
	}
	for _, tt := range tests {
		var got []string
		err := members([]byte(tt.in), func(k, v []byte) bool {
			got = append(got, string(k)+"="+string(v))
			return true
		})
		if (err != nil) != tt.wantErr {
			t.Errorf("members(%s): err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("members(%s) (-want +got):\n%s", tt.in, diff)
			}
		}
	}
}

func TestParseMessage(t *testing.T) {
	m, err := parseMessage([]byte(`{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.ID) != "3" || m.Method != nil || m.Error == nil || m.Error.Code != -32602 || m.Error.Message != "bad" {
		t.Errorf("error response parsed as %+v (error %+v)", m, m.Error)
	}
	m, err = parseMessage([]byte(`{"method":"notifications/message","jsonrpc":"2.0","params":{}}`))
	if err != nil || string(m.Method) != `"notifications/message"` || m.ID != nil {
		t.Errorf("notification parsed as %+v, %v", m, err)
	}
	// What it keeps does not alias the input, which the SSE reader reuses.
	in := []byte(`{"id":1,"result":{"a":1}}`)
	m, _ = parseMessage(in)
	copy(in, make([]byte, len(in)))
	if string(m.Result) != `{"a":1}` || string(m.ID) != "1" {
		t.Errorf("parsed message changed with its input: %+v", m)
	}
}

func TestProgressToken(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":42,"progress":1,"total":100}}`, "42", true},
		{`{"method":"notifications/progress","params":{"total":2,"progress":1,"progressToken":"tok-1"}}`, `"tok-1"`, true},
		{`{"method" : "notifications/progress", "params" : {"progressToken" : 7 }}`, "7", true},
		{`{"method":"notifications/progress","params":{"progressToken":7}}`, "7", true},
		{`{"method":"notifications/message","params":{"data":"x"}}`, "", false},
		{`{"id":1,"result":{"content":[{"type":"text","text":"notifications/progress progressToken"}]}}`, "", false},
		{`{"method":"notifications/progress","params":{}}`, "", false},
	}
	for _, tt := range tests {
		got, ok := progressToken([]byte(tt.in))
		if ok != tt.wantOK || string(got) != tt.want {
			t.Errorf("progressToken(%s) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	for raw, want := range map[string]bool{"42": true, "42.0": true, "4.2e1": true, "43": false, `"42"`: false} {
		if got := tokenIs([]byte(raw), 42); got != want {
			t.Errorf("tokenIs(%s, 42) = %v, want %v", raw, got, want)
		}
	}
}

func TestCheckResults(t *testing.T) {
	for _, tt := range []struct {
		raw     string
		echoErr bool
		notErr  bool
	}{
		{`{"content":[{"type":"text","text":"hi"}],"structuredContent":{"text":"hi"}}`, false, false},
		{`{"content":[{"type":"text","text":"{\"text\":\"hi\"}"}],"structuredContent":{"text":"hi"}}`, false, false},
		{`{"content":[{"type":"text","text":"ho"}],"structuredContent":{"text":"hi"}}`, true, false},
		{`{"content":[{"type":"text","text":"hi"}]}`, true, false},
		{`{"content":[{"type":"text","text":"hi"}],"structuredContent":{"text":"hi"},"isError":true}`, true, true},
		{`{"isError":false,"content":[{"type":"text","text":"hi"}],"structuredContent":{"text":"hi"}}`, false, false},
	} {
		if err := checkEcho([]byte(tt.raw), "hi"); (err != nil) != tt.echoErr {
			t.Errorf("checkEcho(%s) = %v, want error %v", tt.raw, err, tt.echoErr)
		}
		if err := checkNotError([]byte(tt.raw)); (err != nil) != tt.notErr {
			t.Errorf("checkNotError(%s) = %v, want error %v", tt.raw, err, tt.notErr)
		}
	}
}
