package conformance

import (
	"encoding/base64"
	"encoding/json"

	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// This file holds the fixtures' test data and the helpers that build
// toolwire.mcp.v1 content blocks.

const (
	// pngBase64 is a 1x1 red PNG, as in the suite's reference servers.
	pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	// wavBase64 is a short silent WAV, as in the suite's reference servers.
	wavBase64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
)

// decoded returns the bytes of a base64 constant of this file, which the
// tests check decode.
func decoded(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

// pngData is the test image.
func pngData() []byte { return decoded(pngBase64) }

// wavData is the test audio.
func wavData() []byte { return decoded(wavBase64) }

// text is a text block.
func text(s string) *mcpv1.Content {
	return &mcpv1.Content{Kind: &mcpv1.Content_Text{Text: s}}
}

// texts is a result of one text block.
func texts(s string) []*mcpv1.Content { return []*mcpv1.Content{text(s)} }

// image is an image block.
func image(data []byte, mimeType string) *mcpv1.Content {
	return &mcpv1.Content{Kind: &mcpv1.Content_Image{Image: &mcpv1.Media{Data: data, MimeType: mimeType}}}
}

// audio is an audio block.
func audio(data []byte, mimeType string) *mcpv1.Content {
	return &mcpv1.Content{Kind: &mcpv1.Content_Audio{Audio: &mcpv1.Media{Data: data, MimeType: mimeType}}}
}

// embedded is an embedded text resource block.
func embedded(uri, mimeType, body string) *mcpv1.Content {
	return &mcpv1.Content{Kind: &mcpv1.Content_Resource{Resource: textContents(uri, mimeType, body)}}
}

// textContents are the contents of a text resource.
func textContents(uri, mimeType, body string) *mcpv1.ResourceContents {
	return &mcpv1.ResourceContents{Uri: uri, MimeType: mimeType, Body: &mcpv1.ResourceContents_Text{Text: body}}
}

// blobContents are the contents of a binary resource.
func blobContents(uri, mimeType string, blob []byte) *mcpv1.ResourceContents {
	return &mcpv1.ResourceContents{Uri: uri, MimeType: mimeType, Body: &mcpv1.ResourceContents_Blob{Blob: blob}}
}

// userMessage is a prompt message from the user.
func userMessage(c *mcpv1.Content) *mcpv1.PromptMessage {
	return &mcpv1.PromptMessage{Role: mcpv1.Role_ROLE_USER, Content: c}
}

// jsonText renders v as compact JSON, map keys sorted, for result texts.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
