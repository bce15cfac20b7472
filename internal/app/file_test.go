package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfig(t *testing.T) {
	write := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "toolwire.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("every key", func(t *testing.T) {
		cfg := Config{Addr: "127.0.0.1:7070", Version: "v"}
		err := LoadConfig(write(t, `
addr: 127.0.0.1:8080
backends: [echo:7071, search:7072]
default_timeout: 30s
max_timeout: 5m
allowed_hosts: [edge.internal]
allowed_origins: ["https://console.example"]
`), &cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := Config{Addr: "127.0.0.1:8080", Version: "v", Backends: []string{"echo:7071", "search:7072"},
			DefaultTimeout: 30 * time.Second, MaxTimeout: 5 * time.Minute,
			AllowedHosts: []string{"edge.internal"}, AllowedOrigins: []string{"https://console.example"}}
		if diff := cmp.Diff(want, cfg, cmp.FilterPath(func(p cmp.Path) bool {
			return p.String() == "Logger" || p.String() == "Out"
		}, cmp.Ignore())); diff != "" {
			t.Errorf("config (-want +got):\n%s", diff)
		}
	})
	t.Run("empty file keeps defaults", func(t *testing.T) {
		cfg := Config{Addr: "127.0.0.1:7070"}
		if err := LoadConfig(write(t, ""), &cfg); err != nil || cfg.Addr != "127.0.0.1:7070" {
			t.Fatalf("err %v, addr %q", err, cfg.Addr)
		}
	})
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", "backend: x:1\n", "field backend not found"},
		{"bad duration", "max_timeout: soon\n", `max_timeout: want a positive duration such as "30s", got "soon"`},
		{"negative duration", "default_timeout: -1s\n", "default_timeout"},
		{"wrong type", "backends: 7\n", "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg Config
			err := LoadConfig(write(t, tc.body), &cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "toolwire.yaml") {
				t.Errorf("err = %v, want one naming the file and containing %q", err, tc.want)
			}
		})
	}
	if err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"), &Config{}); err == nil {
		t.Error("a missing file loaded")
	}
}
