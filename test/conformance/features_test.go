package conformance_test

import (
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// watchedResource is the resource the backend reports an update of every
// 3 s (services/conformance.DefaultUpdateInterval).
const watchedResource = "test://watched-resource"

// featureScenarios runs the suites' resources-*, prompts-* and
// completion-complete scenarios, subscriptions aside.
func (s *session) featureScenarios(t *testing.T) {
	t.Run("resources-list", func(t *testing.T) {
		var uris []string
		for i, r := range all(t, s.cs.Resources(callCtx(t), nil)) {
			if r.URI == "" || r.Name == "" {
				t.Errorf("resource %d: uri %q, name %q: want both", i, r.URI, r.Name)
			}
			uris = append(uris, r.URI)
		}
		for _, want := range []string{"test://static-text", "test://static-binary", watchedResource} {
			if !slices.Contains(uris, want) {
				t.Errorf("resources/list lacks %s (has %v)", want, uris)
			}
		}
		templates := all(t, s.cs.ResourceTemplates(callCtx(t), nil))
		if !slices.ContainsFunc(templates, func(r *mcp.ResourceTemplate) bool {
			return r.URITemplate == "test://template/{id}/data" && r.Name != ""
		}) {
			t.Errorf("resources/templates/list lacks test://template/{id}/data: %s", mustJSON(t, templates))
		}
	})

	for _, sc := range []struct {
		scenario, uri, contents string
	}{
		{"resources-read-text", "test://static-text",
			`[{"uri":"test://static-text","mimeType":"text/plain","text":"This is the content of the static text resource."}]`},
		{"resources-read-binary", "test://static-binary",
			`[{"uri":"test://static-binary","mimeType":"image/png","blob":"` + pngBase64 + `"}]`},
		// The suite checks that the id reaches the content.
		{"resources-templates-read", "test://template/123/data",
			`[{"uri":"test://template/123/data","mimeType":"application/json","text":"{\"id\":\"123\",\"templateTest\":true,\"data\":\"Data for ID: 123\"}"}]`},
	} {
		t.Run(sc.scenario, func(t *testing.T) {
			res, err := s.cs.ReadResource(callCtx(t), &mcp.ReadResourceParams{URI: sc.uri})
			if err != nil {
				t.Fatal(err)
			}
			wantJSON(t, "contents", res.Contents, sc.contents)
		})
	}

	t.Run("prompts-list", func(t *testing.T) {
		var names []string
		for i, p := range all(t, s.cs.Prompts(callCtx(t), nil)) {
			if p.Name == "" || p.Description == "" {
				t.Errorf("prompt %d: name %q, description %q: want both", i, p.Name, p.Description)
			}
			names = append(names, p.Name)
		}
		for _, want := range []string{"test_simple_prompt", "test_prompt_with_arguments", "test_prompt_with_embedded_resource", "test_prompt_with_image"} {
			if !slices.Contains(names, want) {
				t.Errorf("prompts/list lacks %s (has %v)", want, names)
			}
		}
	})

	for _, sc := range []struct {
		scenario, prompt string
		args             map[string]string
		messages         string // the result's messages, as JSON
	}{
		{"prompts-get-simple", "test_simple_prompt", nil,
			`[{"role":"user","content":{"type":"text","text":"This is a simple prompt for testing."}}]`},
		{"prompts-get-with-args", "test_prompt_with_arguments", map[string]string{"arg1": "testValue1", "arg2": "testValue2"},
			`[{"role":"user","content":{"type":"text","text":"Prompt with arguments: arg1='testValue1', arg2='testValue2'"}}]`},
		{"prompts-get-embedded-resource", "test_prompt_with_embedded_resource", map[string]string{"resourceUri": "test://example-resource"},
			`[{"role":"user","content":{"type":"resource","resource":{"uri":"test://example-resource","mimeType":"text/plain","text":"Embedded resource content for testing."}}},` +
				`{"role":"user","content":{"type":"text","text":"Please process the embedded resource above."}}]`},
		{"prompts-get-with-image", "test_prompt_with_image", nil,
			`[{"role":"user","content":` + pngBlock + `},{"role":"user","content":{"type":"text","text":"Please analyze the image above."}}]`},
	} {
		t.Run(sc.scenario, func(t *testing.T) {
			res, err := s.cs.GetPrompt(callCtx(t), &mcp.GetPromptParams{Name: sc.prompt, Arguments: sc.args})
			if err != nil {
				t.Fatal(err)
			}
			wantJSON(t, "messages", res.Messages, sc.messages)
		})
	}

	t.Run("completion-complete", func(t *testing.T) {
		res, err := s.cs.Complete(callCtx(t), &mcp.CompleteParams{
			Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"},
			Argument: mcp.CompleteParamsArgument{Name: "arg1", Value: "test"},
		})
		if err != nil {
			t.Fatal(err)
		}
		wantJSON(t, "completion", res.Completion, `{"values":["testValue1","testValue2","testValue3"],"total":3}`)
	})
}

// resourcesSubscribe: resources/subscribe returns exactly {}; and, since a
// stdio session lives on, the next update of the watched resource reaches
// the client.
func (s *session) resourcesSubscribe(t *testing.T) {
	if err := s.cs.Subscribe(callCtx(t), &mcp.SubscribeParams{URI: watchedResource}); err != nil {
		t.Fatal(err)
	}
	s.wantEmptyResult(t, "resources/subscribe")
	if got := receive(t, s.updated, "notifications/resources/updated"); got != watchedResource {
		t.Errorf("notifications/resources/updated for %q, want %q", got, watchedResource)
	}
	if err := s.cs.Unsubscribe(callCtx(t), &mcp.UnsubscribeParams{URI: watchedResource}); err != nil {
		t.Fatal(err)
	}
}

// resourcesUnsubscribe: subscribe, then unsubscribe; both return exactly
// {}.
func (s *session) resourcesUnsubscribe(t *testing.T) {
	if err := s.cs.Subscribe(callCtx(t), &mcp.SubscribeParams{URI: watchedResource}); err != nil {
		t.Fatal(err)
	}
	s.wantEmptyResult(t, "resources/subscribe")
	if err := s.cs.Unsubscribe(callCtx(t), &mcp.UnsubscribeParams{URI: watchedResource}); err != nil {
		t.Fatal(err)
	}
	s.wantEmptyResult(t, "resources/unsubscribe")
}
