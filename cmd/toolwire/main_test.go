package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRejectsBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"launch"}, `unknown command "launch"`},
		{[]string{"serve"}, "no --backend given"},
		{[]string{"stdio"}, "give either --demo or --backend"},
		{[]string{"stdio", "--demo", "--backend", "x:1"}, "give either --demo or --backend"},
		{[]string{"demo", "--log-level", "loud"}, "--log-level"},
		{[]string{"demo", "extra"}, "unexpected arguments"},
		{[]string{"health"}, "give one address"},
		{[]string{"demo", "--addr", "0.0.0.0:7070"}, "binds loopback only"},
		{[]string{"serve", "--config", "/nonexistent/toolwire.yaml"}, "no such file"},
		{[]string{"health", "127.0.0.1:1"}, "health of 127.0.0.1:1"},
		{[]string{"serve", "--max-timeout", "-3s"}, "want a positive duration"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestToolsCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"tools"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`"echo"`, `"stream"`, `"sleep"`, `"search_documents"`, `"get_document"`} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("catalog lacks %s", name)
		}
	}
}
