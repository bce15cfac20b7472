package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolwire/toolwire/internal/app"
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

func TestConfigFileAndFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toolwire.yaml")
	if err := os.WriteFile(path, []byte("addr: 127.0.0.1:9999\nbackends: [a:1]\nmax_timeout: 2m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var backends listFlag
	cfg := app.Config{}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:7070", "")
	fs.Var(&backends, "backend", "")
	if err := fs.Parse([]string{"--backend", "b:2"}); err != nil {
		t.Fatal(err)
	}
	cfg.Backends = backends
	got, err := withConfigFile(fs, cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != "127.0.0.1:9999" || len(got.Backends) != 1 || got.Backends[0] != "b:2" || got.MaxTimeout != 2*time.Minute {
		t.Errorf("got addr %q backends %v max %v: want the file's addr and max_timeout, the flag's backend", got.Addr, got.Backends, got.MaxTimeout)
	}
}
