package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
)

// A catalog that changes at run time.
//
// A backend may be redeployed with tools, prompts or resources added or
// removed. Whoever learns of it (internal/app's refresher, which re-reads
// the backends by gRPC reflection) builds the new catalog and calls
// [Edge.SetCatalog], which swaps what every path serves:
//
//   - The tools are bound anew (bridge.Bridge.With, sharing metrics and the
//     requestState key), and the tables the calls look them up in are
//     swapped whole behind atomic pointers: the fast path's, the SDK
//     handlers' (each registered tool's handler finds its bound tool by
//     name, so a tool whose listing did not change is not registered
//     again), the tasks', the scopes, the Mcp-Param-* header bindings
//     (params.go) and the concurrency bounds. A call
//     already running keeps the tool it found and finishes normally; a
//     later call of a removed tool gets the SDK's unknown-tool error.
//   - The SDK's lists change only where a listing did (Server.AddTool,
//     RemoveTools and friends), and the SDK notifies its sessions of each
//     list that changed: sessions of 2025-11-25 and before (Streamable HTTP,
//     HTTP+SSE, stdio) unasked, 2026-07-28 subscriptions/listen streams
//     that asked for it. Those whose GET stream the edge serves get it
//     there (standaloneNotifications).
//   - Sessions the edge opened without an SDK session (lazysession.go) are
//     not the SDK's to notify: the edge writes the list changes to their
//     GET stream itself, and remembers it (liveSession.notified), so that a
//     session whose SDK session opens meanwhile is not told twice.
//   - The initialize result the edge answers with is learnt again: the
//     capabilities follow the lists.
//
// The capabilities declare listChanged for tools, prompts and resources:
// the SDK's default, which the edge leaves as it is.

// catalogState is what an edge serves and how to change it.
type catalogState struct {
	// mu serialises changes; cat and bridge are guarded by it.
	mu     sync.Mutex
	cat    *catalog.Catalog
	bridge *bridge.Bridge
	// resolve is the current resolver, which feature calls go through.
	resolve atomic.Pointer[bridge.Resolver]
	// featureOpts are the options of feature calls, to check a new
	// catalog's features with.
	featureOpts bridge.Options
	// handlers are the SDK handlers of the bound tools, by name.
	handlers atomic.Pointer[map[string]mcp.ToolHandler]
	// gens count the changes of each list (see listKind).
	gens [numLists]atomic.Uint64
}

// listKind numbers the lists whose changes are notified.
type listKind int

const (
	toolsList listKind = iota
	promptsList
	resourcesList
	numLists
)

// listChangedMethods are the notifications of the lists, by listKind.
var listChangedMethods = [numLists]string{
	"notifications/tools/list_changed",
	"notifications/prompts/list_changed",
	"notifications/resources/list_changed",
}

func listOf(method string) (listKind, bool) {
	for k, m := range listChangedMethods {
		if m == method {
			return listKind(k), true
		}
	}
	return 0, false
}

// SetCatalog makes the edge serve cat, each tool and feature on the backend
// resolve finds for its service, in place of the catalog it serves now, and
// notifies every live session of the lists that changed: tools, prompts,
// resources (see the top of catalogswap.go). It fails, changing nothing,
// when cat cannot be served: a service without a backend, a tool the limits
// refuse or the SDK would not register.
//
// Completions and resource subscriptions are served as [New] set them up:
// a catalog that gains its first completion or resource_updates RPC needs a
// new edge for them.
func (e *Edge) SetCatalog(cat *catalog.Catalog, resolve bridge.Resolver) error {
	if cat == nil {
		cat = catalog.Empty()
	}
	st := &e.catalog
	st.mu.Lock()
	defer st.mu.Unlock()
	if e.gov != nil {
		if err := e.gov.check(cat); err != nil {
			return err
		}
	}
	if err := bridge.NewFeatures(resolve, &st.featureOpts).Check(cat); err != nil {
		return err
	}
	b, err := st.bridge.With(cat, resolve)
	if err != nil {
		return err
	}
	st.resolve.Store(&resolve)
	old := st.cat
	if err := e.applyTools(cat, b); err != nil {
		return err
	}
	st.cat, st.bridge = cat, b
	if e.gov != nil && e.gov.Concurrency != nil {
		bounds := e.gov.Concurrency.Tools()
		for _, t := range old.Tools() {
			if t.MaxConcurrency > 0 {
				delete(bounds, t.Name)
			}
		}
		maps.Copy(bounds, ToolLimits(cat, e.gov.Concurrency.PerTool().MaxQueue))
		e.gov.Concurrency.SetTools(bounds)
	}
	// Counted before the SDK's lists change (see notifiedAlready); a count
	// with no change only lets a duplicate through.
	st.gens[promptsList].Add(1)
	st.gens[resourcesList].Add(1)
	prompts, resources := e.features.setCatalog(cat)
	if prompts {
		e.notifyLazy(promptsList)
	}
	if resources {
		e.notifyLazy(resourcesList)
	}
	return nil
}

// Catalog returns the catalog the edge serves.
func (e *Edge) Catalog() *catalog.Catalog {
	e.catalog.mu.Lock()
	defer e.catalog.mu.Unlock()
	return e.catalog.cat
}

// applyTools makes b's tools, those of cat, the ones served in place of
// the current catalog's, and tells the sessions if their list changed. It
// fails, changing nothing, if the SDK would refuse a tool.
func (e *Edge) applyTools(cat *catalog.Catalog, b *bridge.Bridge) error {
	st := &e.catalog
	was := map[string][]byte{}
	for _, t := range st.cat.Tools() {
		if l, ok := st.bridge.MCPTool(t.Name); ok {
			was[t.Name] = mustMarshal(l)
		}
	}
	type added struct {
		name    string
		listing *mcp.Tool
	}
	var adds []added
	names := make([]string, 0, len(cat.Tools()))
	handlers := make(map[string]mcp.ToolHandler, len(cat.Tools()))
	for _, t := range cat.Tools() {
		names = append(names, t.Name)
		l, ok := b.MCPTool(t.Name)
		h, _ := b.ToolHandler(t.Name)
		if !ok || h == nil {
			continue
		}
		handlers[t.Name] = h
		prev, listed := was[t.Name]
		delete(was, t.Name)
		if !listed || !bytes.Equal(prev, mustMarshal(l)) {
			adds = append(adds, added{t.Name, l})
		}
	}
	// The SDK panics on a tool it refuses: try each on a scratch server.
	scratch := mcp.NewServer(&mcp.Implementation{Name: "check"}, &mcp.ServerOptions{Logger: slog.New(slog.DiscardHandler)})
	for _, a := range adds {
		if err := tryAddTool(scratch, a.listing); err != nil {
			return err
		}
	}

	// The tables first, then the lists: a tool is callable before it is
	// listed, and a removed one no longer callable once it is not.
	st.handlers.Store(&handlers)
	if e.auth != nil {
		scopes := make(map[string][]string, len(names))
		for _, t := range cat.Tools() {
			scopes[t.Name] = t.Scopes
		}
		e.scopes.Store(&scopes)
	}
	e.tasks.setTools(b, cat)
	e.params.set(cat.Tools())
	if e.fast != nil {
		e.fast.setTools(b, names)
	}
	if len(adds) == 0 && len(was) == 0 {
		return nil
	}
	e.catalog.gens[toolsList].Add(1)
	if len(was) > 0 {
		e.server.RemoveTools(slices.Sorted(maps.Keys(was))...)
	}
	for _, a := range adds {
		e.server.AddTool(a.listing, e.toolHandler(a.name))
	}
	e.notifyLazy(toolsList)
	return nil
}

func tryAddTool(s *mcp.Server, t *mcp.Tool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("edge: %v", r)
		}
	}()
	s.AddTool(t, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil })
	return nil
}

// toolHandler is the SDK handler of the tool called name: it calls the
// tool as currently bound.
func (e *Edge) toolHandler(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		h, ok := (*e.catalog.handlers.Load())[name]
		if !ok {
			// Removed, and about to leave the SDK's list: as the SDK answers.
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown tool %q", name)}
		}
		return h(ctx, req)
	}
}

// resolveCurrent resolves through the current resolver.
func (e *Edge) resolveCurrent(svc protoreflect.FullName) (grpc.ClientConnInterface, bool) {
	return (*e.catalog.resolve.Load())(svc)
}

// toolScopes returns the scopes the tool called name requires.
func (e *Edge) toolScopes(name string) []string {
	m := e.scopes.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

// notifyLazy writes list k's change to the GET stream of each session that
// has no SDK session, or is still opening one (or keeps it for the stream's
// resumption, resume.go), and starts learning the initialize result again.
func (e *Edge) notifyLazy(k listKind) {
	e.inits.Store(&initResults{})
	gen := e.catalog.gens[k].Load()
	msg := []byte(`{"jsonrpc":"2.0","method":"` + listChangedMethods[k] + `","params":{}}`)
	for _, s := range e.sessions.all() {
		s.mu.Lock()
		lazy := s.lazy != nil
		s.mu.Unlock()
		if !lazy || !s.events.serving() {
			continue
		}
		s.notified[k].Store(gen)
		s.publish(msg)
	}
}

// notifiedAlready reports whether s, on which the SDK is sending the list
// change method, was told of the latest change of that list by the edge
// while it had no SDK session (notifyLazy).
func (e *Edge) notifiedAlready(s *liveSession, method string) bool {
	k, ok := listOf(method)
	if !ok {
		return false
	}
	gen := e.catalog.gens[k].Load()
	return gen != 0 && s.notified[k].Load() == gen
}

// mustMarshal is the JSON of a listing, which always marshals.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
