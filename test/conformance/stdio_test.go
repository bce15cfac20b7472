package conformance_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sessionVersions are the session revisions whose scenarios the suites run
// over HTTP (conformance 0.1.16 covers both).
var sessionVersions = []string{"2025-06-18", "2025-11-25"}

// TestStdio runs the suites' server scenarios over one stdio session per
// revision, each scenario a subtest named after the suite's.
func TestStdio(t *testing.T) {
	for _, version := range sessionVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			s := startSession(t, version, true)
			t.Run("server-initialize", func(t *testing.T) { s.serverInitialize(t, version) })
			t.Run("ping", s.ping)
			t.Run("logging-set-level", s.loggingSetLevel)
			t.Run("tools-list", s.toolsList)
			s.toolScenarios(t)
			s.featureScenarios(t)
			t.Run("resources-subscribe", s.resourcesSubscribe)
			t.Run("resources-unsubscribe", s.resourcesUnsubscribe)
		})
	}
}

// serverInitialize: the initialize handshake, at the requested revision,
// declaring every feature the suites exercise.
func (s *session) serverInitialize(t *testing.T, version string) {
	res := s.cs.InitializeResult()
	if res == nil {
		t.Fatal("no initialize result")
	}
	if res.ProtocolVersion != version {
		t.Errorf("protocolVersion = %q, want %q", res.ProtocolVersion, version)
	}
	if res.ServerInfo == nil || res.ServerInfo.Name != "toolwire" || res.ServerInfo.Version == "" {
		t.Errorf("serverInfo = %+v, want name toolwire and a version", res.ServerInfo)
	}
	caps := res.Capabilities
	if caps == nil {
		t.Fatal("no capabilities")
	}
	for name, declared := range map[string]bool{
		"tools":               caps.Tools != nil,
		"resources":           caps.Resources != nil,
		"resources.subscribe": caps.Resources != nil && caps.Resources.Subscribe,
		"prompts":             caps.Prompts != nil,
		"logging":             caps.Logging != nil,
		"completions":         caps.Completions != nil,
	} {
		if !declared {
			t.Errorf("capability %s not declared", name)
		}
	}
}

// ping: the result is exactly {}.
func (s *session) ping(t *testing.T) {
	if err := s.cs.Ping(callCtx(t), nil); err != nil {
		t.Fatal(err)
	}
	s.wantEmptyResult(t, "ping")
}

// loggingSetLevel: the result is exactly {}.
func (s *session) loggingSetLevel(t *testing.T) {
	if err := s.cs.SetLoggingLevel(callCtx(t), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	s.wantEmptyResult(t, "logging/setLevel")
}

// fixtureTools are the tools the suites call by name.
var fixtureTools = []string{
	"test_simple_text", "test_image_content", "test_audio_content", "test_embedded_resource",
	"test_multiple_content_types", "test_tool_with_logging", "test_tool_with_progress",
	"test_error_handling", "test_sampling", "test_elicitation", "test_elicitation_sep1034_defaults",
	"test_elicitation_sep1330_enums", "json_schema_2020_12_tool", "test_reconnection",
	"test_missing_capability", "slow_compute",
}

// toolNameFormat is the tools-name-format check of conformance 0.2.
var toolNameFormat = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// toolsList: every tool has a well-formed name, a description and an
// object input schema; the fixtures are all there; consecutive lists agree
// in order (tools-list-deterministic-order).
func (s *session) toolsList(t *testing.T) {
	var orders [][]string
	for range 3 {
		tools := all(t, s.cs.Tools(callCtx(t), nil))
		var names []string
		for _, tool := range tools {
			names = append(names, tool.Name)
		}
		orders = append(orders, names)
		if len(orders) > 1 {
			continue
		}
		for i, tool := range tools {
			if !toolNameFormat.MatchString(tool.Name) {
				t.Errorf("tool %d: name %q does not match %s", i, tool.Name, toolNameFormat)
			}
			if tool.Description == "" {
				t.Errorf("tool %q: no description", tool.Name)
			}
			schema, ok := tool.InputSchema.(map[string]any)
			if !ok || schema["type"] != "object" {
				t.Errorf("tool %q: inputSchema %v is not an object schema", tool.Name, tool.InputSchema)
			}
		}
		for _, name := range fixtureTools {
			if !slices.Contains(names, name) {
				t.Errorf("tools/list lacks the fixture %s", name)
			}
		}
	}
	for i := 1; i < len(orders); i++ {
		if diff := cmp.Diff(orders[0], orders[i]); diff != "" {
			t.Errorf("tools/list %d lists the tools in another order than the first (-first +later):\n%s", i+1, diff)
		}
	}
}
