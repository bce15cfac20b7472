package app

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/toolwire/toolwire/edge/policy/ratelimit"
)

func TestLimitFlags(t *testing.T) {
	var cfg Config
	fs := serveFlags(t, &cfg, "--rate-limit", "6000/m", "--rate-burst", "20", "--rate-class", "search=5/s:10",
		"--rate-class", "slow=2/h", "--max-connections", "0", "--sse-keepalive", "0", "--redis-url", "redis://127.0.0.1:6379/0",
		"--rate-limit-fallback", "deny")
	if err := ApplyConfigFile(fs, writeConfig(t, "max_body_bytes: 1024\nrate_class: [cheap=100]\nmax_stream_duration: 10m\n")); err != nil {
		t.Fatal(err)
	}
	want := DefaultLimits()
	want.RateLimit, want.RateBurst = 100, 20
	want.RateClasses = []string{"search=5/s:10", "slow=2/h"} // the flag wins over the file's list
	want.MaxConnections, want.SSEKeepAlive = 0, 0
	want.RedisURL, want.RateFallback = "redis://127.0.0.1:6379/0", "deny"
	want.MaxBodyBytes, want.MaxStreamDuration = 1024, 10*time.Minute
	if diff := cmp.Diff(want, cfg.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	if k := cfg.Limits.keepAlive(); k >= 0 {
		t.Errorf("--sse-keepalive 0 gives the edge KeepAlive %v; want a negative one (none)", k)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate-limit", "soon"}, `want a number of calls`},
		{[]string{"--rate-limit", "5/d"}, `want N, N/s, N/m or N/h`},
		{[]string{"--rate-class", "search"}, `want NAME=RATE[:BURST]`},
		{[]string{"--rate-class", "search=5/s:0"}, `burst 0 < 1`},
		{[]string{"--rate-class", "search=5/s:x"}, `burst "x" is not a whole number`},
		{[]string{"--rate-limit-fallback", "maybe"}, `unknown fallback mode "maybe"`},
		{[]string{"--max-body-bytes", "0"}, `want a whole number of at least 1`},
		{[]string{"--read-header-timeout", "0s"}, `want a positive duration`},
		{[]string{"--concurrency", "-1"}, `want a whole number of at least 0`},
		{[]string{"--max-stream-duration", "-1s"}, `or 0 for none`},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var cfg Config
		RegisterFlags("serve", fs, &cfg)
		if err := fs.Parse(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// A zero LimitsConfig, as code that builds a Config gets, means the
// defaults, not no limits.
func TestZeroLimitsAreTheDefaults(t *testing.T) {
	if diff := cmp.Diff(DefaultLimits(), limitsOf(Config{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	c := Config{Limits: LimitsConfig{RateLimit: 5}}
	if got := limitsOf(c); got.RateLimit != 5 || got.Concurrency != 0 {
		t.Errorf("a set LimitsConfig is taken as given; got %+v", got)
	}
}

// README.md's Limits table lists every limit flag with its default, so
// that the table cannot drift from the code.
func TestReadmeListsEveryLimit(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Limits\n")
	if !ok {
		t.Fatal("README.md has no ## Limits section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)[^`]*` \\|([^|]*)\\|").FindAllStringSubmatch(section, -1) {
		rows[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
	}
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	registerLimitFlags("serve", fs, &cfg)
	fs.VisitAll(func(f *flag.Flag) {
		def, ok := rows[f.Name]
		switch {
		case !ok:
			t.Errorf("the Limits table has no row for --%s", f.Name)
		case f.DefValue != "" && def != f.DefValue:
			t.Errorf("the Limits table gives --%s the default %q; the flag's is %q", f.Name, def, f.DefValue)
		}
	})
}

// The limits reach the process's HTTP surface: the principal's budget
// covers MCP and REST alike (429), and a body over the bound gets 413.
func TestDemoEnforcesLimits(t *testing.T) {
	lim := DefaultLimits()
	lim.RateLimit, lim.RateBurst = 0.001, 3
	lim.MaxBodyBytes = 1 << 10
	base := startDemoWith(t, Config{Limits: lim})

	post := func(path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := post("/api/v1/echo", `{"text":"`+strings.Repeat("x", 2<<10)+`"}`); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("REST body over the bound: %s; want 413", r.Status)
	}
	if r := post("/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"`+strings.Repeat("x", 2<<10)+`"}}}`); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("MCP body over the bound: %s; want 413", r.Status)
	}
	// Refused bodies spent nothing; three requests spend the burst.
	for i, path := range []string{"/api/v1/echo", "/api/v1/echo", "/mcp"} {
		if r := post(path, `{}`); r.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d (%s) refused within the burst", i, path)
		}
	}
	for _, path := range []string{"/api/v1/echo", "/mcp"} {
		r := post(path, `{}`)
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get(ratelimit.HeaderRetryAfter) == "" || r.Header.Get(ratelimit.HeaderRateLimit) == "" {
			t.Errorf("%s past the budget: %s %v; want 429 with Retry-After and RateLimit", path, r.Status, r.Header)
		}
	}
	if r, err := http.Get(base + "/healthz"); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("/healthz is not rate limited: %v %v", r, err)
	}
}

// startDemoWith runs Demo with cfg on a free loopback port and returns its
// base URL.
func startDemoWith(t *testing.T, cfg Config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := lineWriter{make(chan string, 100)}
	cfg.Addr, cfg.Logger, cfg.Out = "127.0.0.1:0", quiet, out
	done := make(chan error, 1)
	go func() { done <- Demo(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Demo: %v", err)
		}
	})
	for {
		select {
		case l := <-out.lines:
			if u := mcpURL.FindString(l); u != "" {
				return strings.TrimSuffix(u, "/mcp")
			}
		case err := <-done:
			t.Fatalf("Demo ended: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("Demo printed no URL")
		}
	}
}

// --redis-url alone shares tasks: the client exists without rate limits,
// and the edge's tasks use it; without it, tasks stay in memory.
func TestGovernanceRedisForTasks(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Logger: quiet, Limits: DefaultLimits()}
	g, err := newGovernance(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if g.redis != nil || g.tasks() != nil {
		t.Errorf("without --redis-url: client %v, tasks %v", g.redis, g.tasks())
	}
	// A Redis that does not answer is not fatal.
	cfg.Limits.RedisURL = "redis://127.0.0.1:1/0"
	g, err = newGovernance(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	if g.redis == nil || g.rate != nil {
		t.Fatalf("--redis-url without rate limits: client %v, rate %v", g.redis, g.rate)
	}
	if o := g.tasks(); o == nil || o.Redis != g.redis {
		t.Errorf("tasks = %+v, want the governance's client", o)
	}
}
