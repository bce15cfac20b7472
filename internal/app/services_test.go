package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestServicesFlag(t *testing.T) {
	for _, cmd := range []string{"demo", "stdio", "tools"} {
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		RegisterFlags(cmd, fs, &Config{})
		if fs.Lookup("services") == nil {
			t.Errorf("%s has no --services flag", cmd)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	RegisterFlags("serve", fs, &Config{})
	if fs.Lookup("services") != nil {
		t.Error("serve has a --services flag; it fronts the backends it is given")
	}

	tests := []struct {
		args    []string
		want    []string
		wantErr string
	}{
		{nil, nil, ""},
		{[]string{"--services", "conformance"}, []string{"conformance"}, ""},
		{[]string{"--services", "echo, conformance", "--services", "search,echo"}, []string{"echo", "conformance", "search"}, ""},
		{[]string{"--services", "echo,nope"}, nil, `unknown service "nope"; the services are: echo, search, conformance`},
		{[]string{"--services", ","}, nil, "want one or more of echo, search, conformance"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var cfg Config
			fs := flag.NewFlagSet("demo", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			RegisterFlags("demo", fs, &cfg)
			err := fs.Parse(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Services); diff != "" {
				t.Errorf("Services (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectedServices(t *testing.T) {
	tests := []struct {
		services   []string
		want       []string
		wantPhrase string
	}{
		{nil, []string{"examples.echo.v1.EchoService", "examples.search.v1.SearchService"}, "the echo and search backends"},
		{[]string{"conformance"}, []string{"examples.conformance.v1.ConformanceService"}, "the conformance backend"},
		{[]string{"conformance", "search", "echo"},
			[]string{"examples.echo.v1.EchoService", "examples.search.v1.SearchService", "examples.conformance.v1.ConformanceService"},
			"the echo, search and conformance backends"},
	}
	for _, tt := range tests {
		cfg := Config{Services: tt.services}
		svcs, err := cfg.selectedServices()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range svcs {
			got = append(got, s.name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v: services (-want +got):\n%s", tt.services, diff)
		}
		if p := servedPhrase(svcs); p != tt.wantPhrase {
			t.Errorf("%v: phrase %q, want %q", tt.services, p, tt.wantPhrase)
		}
	}
	cfg := Config{Services: []string{"bogus"}}
	if _, err := cfg.selectedServices(); err == nil {
		t.Error("an unknown service was accepted")
	}
	if err := Demo(context.Background(), Config{Addr: "127.0.0.1:0", Services: []string{"bogus"}, Logger: quiet}); err == nil ||
		!strings.Contains(err.Error(), `unknown service "bogus"`) {
		t.Errorf("Demo with an unknown service: %v", err)
	}
}

func TestBannerNamesServices(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7070}
	var b bytes.Buffer
	printBanner(Config{Out: &b, Services: []string{"conformance"}}, addr)
	if !strings.HasPrefix(b.String(), "toolwire demo: edge with the conformance backend, listening on 127.0.0.1:7070") {
		t.Errorf("banner:\n%s", b.String())
	}
	if strings.Contains(b.String(), "/api/v1/echo") {
		t.Errorf("the banner offers echo's REST route without echo:\n%s", b.String())
	}
	b.Reset()
	printBanner(Config{Out: &b}, addr)
	if !strings.HasPrefix(b.String(), "toolwire demo: edge with the echo and search backends, listening on") ||
		!strings.Contains(b.String(), "/api/v1/echo") {
		t.Errorf("default banner:\n%s", b.String())
	}
}

func TestToolsWithConformance(t *testing.T) {
	var b bytes.Buffer
	if err := Tools(context.Background(), Config{Out: &b, Services: []string{"conformance"}}); err != nil {
		t.Fatal(err)
	}
	var tools []struct {
		Name, Description string
	}
	if err := json.Unmarshal(b.Bytes(), &tools); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	if len(tools) != 33 {
		t.Errorf("%d tools, want the 33 conformance fixture tools", len(tools))
	}
	for _, tool := range tools {
		if tool.Description == "" {
			t.Errorf("tool %s has no description", tool.Name)
		}
	}
}

// TestDemoServesConformance runs the demo with only the conformance
// backend and uses a fixture of each kind over MCP.
func TestDemoServesConformance(t *testing.T) {
	base := startDemoWith(t, Config{Services: []string{"conformance"}})
	ctx := t.Context()
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 33 || tools.Tools[0].Name != "confirm_delete" {
		t.Errorf("%d tools, the first %q", len(tools.Tools), tools.Tools[0].Name)
	}
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"test_simple_text", nil, "This is a simple text response for testing."},
		{"greet", map[string]any{"name": "World"}, "Hello, World!"},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.name, Arguments: tc.args})
		if err != nil || res.IsError || len(res.Content) != 1 {
			t.Fatalf("%s: %v %+v", tc.name, err, res)
		}
		if got := res.Content[0].(*mcp.TextContent).Text; got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, got, tc.want)
		}
	}
	r, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://template/123/data"})
	if err != nil || len(r.Contents) != 1 || r.Contents[0].Text != `{"id":"123","templateTest":true,"data":"Data for ID: 123"}` {
		t.Errorf("resources/read: %v %+v", err, r)
	}
	p, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "a", "arg2": "b"}})
	if err != nil || len(p.Messages) != 1 || p.Messages[0].Content.(*mcp.TextContent).Text != "Prompt with arguments: arg1='a', arg2='b'" {
		t.Errorf("prompts/get: %v %+v", err, p)
	}
}
