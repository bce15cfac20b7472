// Package compose checks docker-compose.yml without a Docker engine: it loads
// the file with compose-go, the library Docker Compose itself uses, and checks
// the wiring a `docker compose up` depends on.
package compose

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
)

// repoRoot is where docker-compose.yml, the Dockerfile and cmd/ live.
const repoRoot = "../.."

// backendAddrs are the gRPC ports the edge is expected to reach, by service.
var backendAddrs = map[string]string{"echo": "echo:7071", "search": "search:7072"}

// load reads docker-compose.yml as `docker compose config` would, with a fixed,
// empty environment so that variables set in the test's environment (CI sets
// DATABASE_URL) cannot change what is checked.
func load(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(nil),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("loading docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeFile(t *testing.T) {
	p := load(t)
	root, _ := filepath.Abs(repoRoot)

	var names []string
	for name := range p.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"echo", "edge", "postgres", "search"}, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	for _, problem := range check(p, root) {
		t.Error(problem)
	}
}

// TestCheckFindsMistakes breaks the loaded project in the ways a careless edit
// would, and expects check to notice each one.
func TestCheckFindsMistakes(t *testing.T) {
	root, _ := filepath.Abs(repoRoot)
	tests := []struct {
		name   string
		mutate func(p *types.Project)
		want   string
	}{
		{"unknown binary", func(p *types.Project) {
			s := p.Services["echo"]
			s.Command = types.ShellCommand{"echo-server", "--addr", "0.0.0.0:7071"}
			p.Services["echo"] = s
		}, `echo: command runs "echo-server", but cmd/echo-server does not exist`},
		{"port on every interface", func(p *types.Project) {
			s := p.Services["edge"]
			s.Ports[0].HostIP = ""
			p.Services["edge"] = s
		}, "edge: port 7070 is published on all interfaces"},
		{"no health condition", func(p *types.Project) {
			s := p.Services["edge"]
			d := s.DependsOn["search"]
			d.Condition = types.ServiceConditionStarted
			s.DependsOn["search"] = d
			p.Services["edge"] = s
		}, `edge: depends_on search has condition "service_started", want service_healthy`},
		{"no depends_on postgres", func(p *types.Project) {
			s := p.Services["search"]
			delete(s.DependsOn, "postgres")
			p.Services["search"] = s
		}, "search: does not depend on postgres"},
		{"DATABASE_URL to localhost", func(p *types.Project) {
			s := p.Services["search"]
			v := "postgres://toolwire:toolwire@localhost:5432/toolwire?sslmode=disable"
			s.Environment["DATABASE_URL"] = &v
			p.Services["search"] = s
		}, `search: DATABASE_URL host is "localhost", want the postgres service`},
		{"wrong database", func(p *types.Project) {
			s := p.Services["search"]
			v := "postgres://toolwire:toolwire@postgres:5432/other?sslmode=disable"
			s.Environment["DATABASE_URL"] = &v
			p.Services["search"] = s
		}, `search: DATABASE_URL database is "other", postgres creates "toolwire"`},
		{"no healthcheck", func(p *types.Project) {
			s := p.Services["echo"]
			s.HealthCheck = nil
			p.Services["echo"] = s
		}, "echo: no healthcheck"},
		{"backend port mismatch", func(p *types.Project) {
			s := p.Services["search"]
			s.Command = types.ShellCommand{"search-service", "--addr", "0.0.0.0:9999"}
			p.Services["search"] = s
		}, `search: listens on "0.0.0.0:9999", but the edge dials "search:7072"`},
		{"no postgres volume", func(p *types.Project) {
			s := p.Services["postgres"]
			s.Volumes = nil
			p.Services["postgres"] = s
		}, "postgres: no named volume at /var/lib/postgresql/data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t)
			tt.mutate(p)
			problems := check(p, root)
			if !slices.Contains(problems, tt.want) {
				t.Errorf("check missed the mistake\nwant: %s\ngot:  %q", tt.want, problems)
			}
		})
	}
}

// check returns every problem it finds in p, one sentence each.
func check(p *types.Project, root string) []string {
	var problems []string
	bad := func(service, format string, args ...any) {
		problems = append(problems, service+": "+fmt.Sprintf(format, args...))
	}

	for name, s := range p.Services {
		// Every image we build runs one of our own binaries.
		if s.Build != nil {
			if s.Build.Context != root {
				bad(name, "build context %q, want the repository root", s.Build.Context)
			}
			df := s.Build.Dockerfile
			if !filepath.IsAbs(df) {
				df = filepath.Join(s.Build.Context, df)
			}
			if _, err := os.Stat(df); err != nil {
				bad(name, "Dockerfile %s: %v", df, err)
			}
			if len(s.Command) == 0 {
				bad(name, "builds our image but sets no command")
			} else {
				bin := s.Command[0]
				if st, err := os.Stat(filepath.Join(root, "cmd", bin)); err != nil || !st.IsDir() {
					bad(name, "command runs %q, but cmd/%s does not exist", bin, bin)
				} else if srcs, _ := filepath.Glob(filepath.Join(root, "cmd", bin, "*.go")); len(srcs) == 0 {
					bad(name, "command runs %q, but cmd/%s holds no Go files", bin, bin)
				}
			}
		}

		// Ports are published on loopback only.
		for _, port := range s.Ports {
			if port.Published == "" {
				continue
			}
			if ip := net.ParseIP(port.HostIP); ip == nil || !ip.IsLoopback() {
				if port.HostIP == "" {
					bad(name, "port %d is published on all interfaces", port.Target)
				} else {
					bad(name, "port %d is published on %s, not loopback", port.Target, port.HostIP)
				}
			}
		}

		// Every service reports its health, and whoever waits on it waits for that.
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			bad(name, "no healthcheck")
		}
		for dep, d := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				bad(name, "depends_on unknown service %s", dep)
			}
			if d.Condition != types.ServiceConditionHealthy {
				bad(name, "depends_on %s has condition %q, want service_healthy", dep, d.Condition)
			}
		}
	}

	problems = append(problems, checkEdge(p)...)
	problems = append(problems, checkSearch(p)...)
	problems = append(problems, checkPostgres(p)...)
	sort.Strings(problems)
	return problems
}

// flag returns the values of --name in cmd, in order.
func flag(cmd []string, name string) []string {
	var vals []string
	for i, arg := range cmd {
		switch {
		case arg == name && i+1 < len(cmd):
			vals = append(vals, cmd[i+1])
		case strings.HasPrefix(arg, name+"="):
			vals = append(vals, strings.TrimPrefix(arg, name+"="))
		}
	}
	return vals
}

// checkEdge checks that the edge serves on 7070, is published there, dials
// each backend at the port that backend listens on, and waits for it.
func checkEdge(p *types.Project) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, "edge: "+fmt.Sprintf(format, args...)) }
	edge, ok := p.Services["edge"]
	if !ok {
		return []string{"edge: missing"}
	}
	if len(edge.Command) < 2 || edge.Command[0] != "toolwire" || edge.Command[1] != "serve" {
		bad("command %q, want toolwire serve ...", edge.Command)
	}
	if addr := flag(edge.Command, "--addr"); !slices.Equal(addr, []string{"0.0.0.0:7070"}) {
		bad("--addr %q, want 0.0.0.0:7070", addr)
	}
	published := false
	for _, port := range edge.Ports {
		if port.Target == 7070 && port.Published == "7070" && port.HostIP == "127.0.0.1" {
			published = true
		}
	}
	if !published {
		bad("7070 is not published as 127.0.0.1:7070:7070")
	}
	if hc := edge.HealthCheck; hc != nil && !strings.Contains(strings.Join(hc.Test, " "), "127.0.0.1:7070/healthz") {
		bad("healthcheck %q does not probe /healthz on 7070", hc.Test)
	}

	backends := flag(edge.Command, "--backend")
	for svc, want := range backendAddrs {
		if !slices.Contains(backends, want) {
			bad("no --backend %s", want)
		}
		if _, ok := edge.DependsOn[svc]; !ok {
			bad("does not depend on %s", svc)
		}
	}
	for _, b := range backends {
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			bad("--backend %q: %v", b, err)
			continue
		}
		backend, ok := p.Services[host]
		if !ok {
			bad("--backend %q names no service", b)
			continue
		}
		addr := flag(backend.Command, "--addr")
		if len(addr) != 1 {
			problems = append(problems, fmt.Sprintf("%s: command %q has no single --addr", host, backend.Command))
			continue
		}
		if _, lport, err := net.SplitHostPort(addr[0]); err != nil || lport != port {
			problems = append(problems, fmt.Sprintf("%s: listens on %q, but the edge dials %q", host, addr[0], b))
		} else if lhost, _, _ := net.SplitHostPort(addr[0]); lhost == "127.0.0.1" || lhost == "localhost" {
			problems = append(problems, fmt.Sprintf("%s: listens on loopback (%s), unreachable from the edge", host, addr[0]))
		}
		if hc := backend.HealthCheck; hc != nil && !strings.Contains(strings.Join(hc.Test, " "), "toolwire health 127.0.0.1:"+port) {
			problems = append(problems, fmt.Sprintf("%s: healthcheck %q does not ask grpc health on port %s", host, hc.Test, port))
		}
	}
	return problems
}

// checkSearch checks that search reaches the postgres service with the
// credentials and database the postgres image is told to create.
func checkSearch(p *types.Project) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, "search: "+fmt.Sprintf(format, args...)) }
	search, ok := p.Services["search"]
	if !ok {
		return []string{"search: missing"}
	}
	pg := p.Services["postgres"]
	if _, ok := search.DependsOn["postgres"]; !ok {
		bad("does not depend on postgres")
	}
	raw := search.Environment["DATABASE_URL"]
	if raw == nil || *raw == "" {
		bad("DATABASE_URL is not set")
		return problems
	}
	u, err := url.Parse(*raw)
	if err != nil {
		bad("DATABASE_URL: %v", err)
		return problems
	}
	env := func(k string) string {
		if v := pg.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		bad("DATABASE_URL scheme %q", u.Scheme)
	}
	if u.Hostname() != "postgres" {
		bad("DATABASE_URL host is %q, want the postgres service", u.Hostname())
	}
	if port := u.Port(); port != "" && port != "5432" {
		bad("DATABASE_URL port %s, postgres listens on 5432", port)
	}
	if got, want := u.User.Username(), env("POSTGRES_USER"); got != want {
		bad("DATABASE_URL user is %q, postgres creates %q", got, want)
	}
	if got, _ := u.User.Password(); got != env("POSTGRES_PASSWORD") || got == "" {
		bad("DATABASE_URL password does not match POSTGRES_PASSWORD")
	}
	if got, want := strings.TrimPrefix(u.Path, "/"), env("POSTGRES_DB"); got != want {
		bad("DATABASE_URL database is %q, postgres creates %q", got, want)
	}
	return problems
}

// checkPostgres checks the database service: the official image, a named
// volume for its data, and a pg_isready healthcheck.
func checkPostgres(p *types.Project) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, "postgres: "+fmt.Sprintf(format, args...))
	}
	pg, ok := p.Services["postgres"]
	if !ok {
		return []string{"postgres: missing"}
	}
	if !strings.HasPrefix(pg.Image, "postgres:") {
		bad("image %q, want the official postgres image", pg.Image)
	}
	if len(pg.Ports) > 0 {
		bad("publishes ports; only the edge should")
	}
	hasVolume := false
	for _, v := range pg.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == "/var/lib/postgresql/data" {
			if _, ok := p.Volumes[v.Source]; ok {
				hasVolume = true
			}
		}
	}
	if !hasVolume {
		bad("no named volume at /var/lib/postgresql/data")
	}
	if hc := pg.HealthCheck; hc != nil && !slices.Contains(hc.Test, "pg_isready") {
		bad("healthcheck %q does not run pg_isready", hc.Test)
	}
	return problems
}
