package app

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func serveFlags(t *testing.T, cfg *Config, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags("serve", fs, cfg)
	fs.String("config", "", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "toolwire.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyConfigFile(t *testing.T) {
	ignore := cmp.FilterPath(func(p cmp.Path) bool {
		return p.String() == "Logger" || p.String() == "Out"
	}, cmp.Ignore())
	t.Run("every kind of key", func(t *testing.T) {
		var cfg Config
		fs := serveFlags(t, &cfg)
		err := ApplyConfigFile(fs, writeConfig(t, `
addr: 127.0.0.1:8080
backends: [echo:7071, search:7072]
default_timeout: 30s
max_timeout: 5m
allowed_host: edge.internal
allowed_origins: ["https://console.example"]
insecure: true
`))
		if err != nil {
			t.Fatal(err)
		}
		want := Config{Addr: "127.0.0.1:8080", Backends: []string{"echo:7071", "search:7072"},
			DefaultTimeout: 30 * time.Second, MaxTimeout: 5 * time.Minute, Insecure: true,
			AllowedHosts: []string{"edge.internal"}, AllowedOrigins: []string{"https://console.example"},
			Limits: DefaultLimits()}
		if diff := cmp.Diff(want, cfg, ignore); diff != "" {
			t.Errorf("config (-want +got):\n%s", diff)
		}
	})
	t.Run("flags win over the file", func(t *testing.T) {
		var cfg Config
		fs := serveFlags(t, &cfg, "--backend", "b:2", "--max-timeout", "1m")
		if err := ApplyConfigFile(fs, writeConfig(t, "addr: 127.0.0.1:9999\nbackends: [a:1]\nmax_timeout: 2m\n")); err != nil {
			t.Fatal(err)
		}
		if cfg.Addr != "127.0.0.1:9999" || len(cfg.Backends) != 1 || cfg.Backends[0] != "b:2" || cfg.MaxTimeout != time.Minute {
			t.Errorf("got addr %q backends %v max %v: want the file's addr, the flags' backend and max_timeout", cfg.Addr, cfg.Backends, cfg.MaxTimeout)
		}
	})
	t.Run("empty file keeps defaults", func(t *testing.T) {
		var cfg Config
		fs := serveFlags(t, &cfg)
		if err := ApplyConfigFile(fs, writeConfig(t, "")); err != nil || cfg.Addr != "127.0.0.1:7070" {
			t.Fatalf("err %v, addr %q", err, cfg.Addr)
		}
	})
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", "backendz: x:1\n", `toolwire.yaml:1: unknown key "backendz"; the keys are: addr,`},
		{"the config key itself", "config: other.yaml\n", `unknown key "config"`},
		{"bad duration", "\nmax_timeout: soon\n", `toolwire.yaml:2: max_timeout: want a positive duration such as "30s", got "soon"`},
		{"negative duration", "default_timeout: -1s\n", "default_timeout: want a positive duration"},
		{"bad bool", "insecure: maybe\n", "toolwire.yaml:1: insecure:"},
		{"nested map", "addr: {host: x}\n", "want a value or a list of values"},
		{"twice", "addr: a:1\naddr: b:2\n", `toolwire.yaml:2: key "addr" given twice`},
		{"not a map", "- a\n", "want a map of settings"},
		{"not yaml", "addr: [\n", "toolwire.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg Config
			err := ApplyConfigFile(serveFlags(t, &cfg), writeConfig(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "toolwire.yaml") {
				t.Errorf("err = %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
	var cfg Config
	if err := ApplyConfigFile(serveFlags(t, &cfg), filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}
