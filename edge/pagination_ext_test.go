package edge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/observe"
	conformancev1 "github.com/toolwire/toolwire/gen/go/examples/conformance/v1"
)

// tools/list pages through the whole catalog in name order, and two walks
// give the same pages.
func TestToolsListPagination(t *testing.T) {
	svc := conformancev1.File_examples_conformance_v1_conformance_proto.Services().Get(0)
	cat, err := catalog.New([]protoreflect.ServiceDescriptor{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tl := range cat.Tools() {
		want = append(want, tl.Name)
	}
	const pageSize = 7
	if len(want) <= 2*pageSize {
		t.Fatalf("the catalog has %d tools; the test needs more than two pages", len(want))
	}
	// No call reaches a backend: listing needs none.
	e, err := edge.New(cat, func(protoreflect.FullName) (grpc.ClientConnInterface, bool) { return nil, true }, &edge.Options{
		Metrics:  observe.NewMetrics(nil),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		PageSize: pageSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)

	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "pager"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	walk := func() (names []string, pages []int) {
		cursor := ""
		for range 100 {
			res, err := cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, len(res.Tools))
			for _, tl := range res.Tools {
				names = append(names, tl.Name)
			}
			if res.NextCursor == "" {
				return names, pages
			}
			cursor = res.NextCursor
		}
		t.Fatal("tools/list never ended")
		return nil, nil
	}
	names, pages := walk()
	if !slices.Equal(names, want) {
		t.Fatalf("paged tools/list = %v\nwant %v", names, want)
	}
	for i, n := range pages {
		if n > pageSize || (i < len(pages)-1 && n != pageSize) {
			t.Fatalf("page sizes %v, want full pages of %d but the last", pages, pageSize)
		}
	}
	again, _ := walk()
	if !slices.Equal(again, names) {
		t.Fatalf("a second walk gave %v, the first %v", again, names)
	}
}
