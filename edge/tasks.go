package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/redis/go-redis/v9"

	"github.com/toolwire/toolwire/edge/bridge"
	"github.com/toolwire/toolwire/edge/catalog"
	"github.com/toolwire/toolwire/edge/policy/limits"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663), served on
// 2026-07-28 requests. The SDK has none, so the edge adds it around the SDK:
// a receiving middleware answers tasks/get, tasks/update and tasks/cancel
// (registered as custom methods, so that the SDK routes and validates them
// like any request) and the calls of task tools that become tasks, and
// advertises the extension in server/discover.
//
// A tools/call of a tool with task_support, from a client that declared the
// extension (in the request's _meta clientCapabilities), runs as a task:
//   - a unary or server-streaming call at once: the edge answers with a
//     CreateTaskResult and keeps the gRPC call running, detached from the
//     request;
//   - a bidi-streaming call once the backend sends anything but an input
//     round first (an event, a payload, or the end of the call): input
//     rounds before that are answered synchronously by the multi-round-trip
//     protocol (input_required and requestState, as without tasks); a call
//     that ends before is a task that has already ended.
//
// Once a task exists, tasks/get reports its status and statusMessage (the
// backend's Progress messages), and once it ended its result or error;
// input rounds put it in input_required with their inputRequests, which
// tasks/update answers on the live stream; tasks/cancel cancels the call's
// context, and with it the gRPC call. A tool's isError result is a
// completed task; a JSON-RPC error, or a backend failure of code INTERNAL,
// UNKNOWN or DATA_LOSS, a failed one.
//
// A task-optional tool called by a client without the extension answers
// synchronously; a task-required one refuses it with -32021. Session
// revisions (2025-*) have no tasks: their calls answer synchronously.

// Defaults for [TaskOptions].
const (
	DefaultTaskTTL          = time.Hour
	DefaultTaskPollInterval = 500 * time.Millisecond
	DefaultMaxLiveTasks     = 1000
	DefaultMaxKeptTasks     = 10000
)

// TaskOptions configure the tasks extension. Nil or zero fields take the
// defaults. Without Redis, tasks live in the edge's memory: a replica serves
// the tasks it created. With Redis, every replica that shares it serves
// every task (tasks_redis.go); the call still runs in the replica that
// created it.
type TaskOptions struct {
	// TTL is how long a task stays readable by tasks/get once it has ended,
	// for tools without a task_ttl; zero means [DefaultTaskTTL].
	TTL time.Duration
	// PollInterval is the pollIntervalMs the edge suggests; zero means
	// [DefaultTaskPollInterval].
	PollInterval time.Duration
	// MaxLive caps the tasks running at once; MaxKept those held, running
	// or ended within their TTL. A call that would pass either is refused
	// with limits.CodeOverloaded. Zero means [DefaultMaxLiveTasks] and
	// [DefaultMaxKeptTasks]. Both count this replica's tasks, with or
	// without Redis.
	MaxLive, MaxKept int
	// Redis, if not nil, keeps the task records in Redis, so that
	// tasks/get, tasks/update and tasks/cancel reach a task from any
	// replica that uses the same Redis and RedisPrefix. The edge does not
	// close it.
	Redis redis.UniversalClient
	// RedisPrefix starts every task key and channel in Redis; "" means
	// [DefaultTaskRedisPrefix].
	RedisPrefix string
	// Lease is how long a replica's running tasks outlive it: a replica
	// renews its lease every Lease/3, and a task whose replica's lease has
	// lapsed is reported failed. Zero means [DefaultTaskLease].
	Lease time.Duration
}

// The tasks extension's wire names.
const (
	extensionTasks    = bridge.ExtensionTasks
	methodTasksGet    = "tasks/get"
	methodTasksUpdate = "tasks/update"
	methodTasksCancel = "tasks/cancel"
)

// taskServer serves the tasks extension of an edge.
type taskServer struct {
	// tools are the tools with task support, by name.
	// tools are the tools with task support, swapped whole when the
	// catalog changes (setTools).
	tools  atomic.Pointer[map[string]*taskTool]
	store  taskStore
	ttl    time.Duration
	poll   time.Duration
	logger *slog.Logger
	now    func() time.Time
	// base is the parent of every task's context; stop ends them all.
	base context.Context
	stop context.CancelFunc
}

// taskTool is a tool with task support.
type taskTool struct {
	tool *catalog.Tool
	call bridge.Tool
	ttl  time.Duration
}

// newTaskServer serves the tasks extension for cat's tools on s: it
// registers the tasks methods and the middleware that answers them. It must
// be added inside the middleware that puts the caller's principal in the
// context (withPrincipal), for task calls are authorized by the bridge and
// tasks belong to their creator.
func newTaskServer(s *mcp.Server, b *bridge.Bridge, cat *catalog.Catalog, opts *TaskOptions, logger *slog.Logger) *taskServer {
	var o TaskOptions
	if opts != nil {
		o = *opts
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTaskTTL
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultTaskPollInterval
	}
	if o.MaxLive <= 0 {
		o.MaxLive = DefaultMaxLiveTasks
	}
	if o.MaxKept <= 0 {
		o.MaxKept = DefaultMaxKeptTasks
	}
	base, stop := context.WithCancel(context.Background())
	ts := &taskServer{
		ttl:    o.TTL,
		poll:   o.PollInterval,
		logger: logger,
		now:    time.Now,
		base:   base,
		stop:   stop,
	}
	mem := newMemTasks(o.MaxLive, o.MaxKept)
	ts.store = mem
	if o.Redis != nil {
		ts.store = newRedisTasks(mem, o.Redis, o.RedisPrefix, o.Lease, logger, ts.serveCommand)
	}
	ts.setTools(b, cat)
	for _, m := range []string{methodTasksGet, methodTasksUpdate, methodTasksCancel} {
		// The middleware answers them; the SDK must know them to route them.
		_ = mcp.AddReceivingCustomMethod(s, m, func(context.Context, *mcp.ServerSession, *taskParams) (*rawResult, error) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "tasks are served from 2026-07-28 on"}
		})
	}
	s.AddReceivingMiddleware(ts.middleware)
	return ts
}

// setTools makes the tools of cat that support tasks, bound by b, the
// task tools; running tasks finish on the tools they started with.
func (ts *taskServer) setTools(b *bridge.Bridge, cat *catalog.Catalog) {
	tools := map[string]*taskTool{}
	for _, t := range cat.Tools() {
		if t.TaskSupport == mcpv1.TaskSupport_TASK_SUPPORT_UNSPECIFIED {
			continue
		}
		call, ok := b.TaskTool(t.Name)
		if !ok {
			continue
		}
		tt := &taskTool{tool: t, call: call, ttl: t.TaskTTL}
		if tt.ttl <= 0 {
			tt.ttl = ts.ttl
		}
		tools[t.Name] = tt
	}
	ts.tools.Store(&tools)
}

// close cancels every running task.
func (ts *taskServer) close() {
	ts.store.close()
	ts.stop()
}

// isTaskTool reports whether the tool called name supports tasks.
func (ts *taskServer) isTaskTool(name string) bool { return (*ts.tools.Load())[name] != nil }

// taskParams are the params of tasks/get, tasks/update and tasks/cancel.
type taskParams struct {
	mcp.ParamsBase
	TaskID string `json:"taskId"`
	// InputResponses (tasks/update) are kept raw: answers to requests the
	// task is not waiting for are ignored, whatever their shape.
	InputResponses map[string]json.RawMessage `json:"inputResponses,omitempty"`
}

// taskRequest is the SDK's request of a tasks method.
type taskRequest = mcp.ServerRequest[*taskParams]

// middleware is the receiving middleware of the tasks extension.
func (ts *taskServer) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "server/discover":
			res, err := next(ctx, method, req)
			if d, ok := res.(*mcp.DiscoverResult); ok && err == nil && d.Capabilities != nil && len(*ts.tools.Load()) > 0 {
				d.Capabilities.AddExtension(extensionTasks, nil)
			}
			return res, err
		case "tools/call":
			r, ok := req.(*mcp.CallToolRequest)
			if !ok || r.Params == nil || r.ProtocolVersion() < firstSessionlessVersion {
				break
			}
			tt := (*ts.tools.Load())[r.Params.Name]
			if tt == nil {
				break
			}
			caps := bridge.CapabilitiesOf(r.ClientCapabilities())
			if caps&bridge.CapTasks == 0 {
				if tt.tool.TaskSupport == mcpv1.TaskSupport_TASK_SUPPORT_REQUIRED {
					return nil, missingTasks(tt.tool.Name + " runs only as a task")
				}
				break
			}
			return ts.start(ctx, r, tt, caps)
		case methodTasksGet, methodTasksUpdate, methodTasksCancel:
			r, ok := req.(*taskRequest)
			if !ok || r.Params == nil || r.ProtocolVersion() < firstSessionlessVersion {
				break
			}
			if bridge.CapabilitiesOf(r.ClientCapabilities())&bridge.CapTasks == 0 {
				return nil, missingTasks(method + " needs the tasks extension")
			}
			t, err := ts.lookup(ctx, r.Params.TaskID)
			if err != nil {
				return nil, err
			}
			switch {
			case method == methodTasksGet:
				return ts.get(t), nil
			case t.remote != "":
				return ts.forward(ctx, t, method, r.Params.InputResponses)
			case method == methodTasksUpdate:
				return ts.update(t, r.Params.InputResponses)
			default:
				return ts.cancel(t), nil
			}
		}
		return next(ctx, method, req)
	}
}

// missingTasks is the -32021 error of a request that needs the client to
// declare the tasks extension.
func missingTasks(msg string) error {
	data, _ := json.Marshal(map[string]any{
		"requiredCapabilities": map[string]any{"extensions": map[string]any{extensionTasks: map[string]any{}}},
	})
	return &jsonrpc.Error{
		Code:    mcp.CodeMissingRequiredClientCapabilities,
		Message: msg + ": the client must declare the " + extensionTasks + " extension",
		Data:    data,
	}
}

// errUnknownTask is the answer to a task id the caller cannot see: never
// created, expired, or another principal's.
var errUnknownTask = &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "unknown taskId"}

// lookup finds the caller's task id.
func (ts *taskServer) lookup(ctx context.Context, id string) (*task, error) {
	if id == "" {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "missing taskId"}
	}
	t, err := ts.store.get(ctx, id)
	switch {
	case errors.Is(err, errNoTask):
		return nil, errUnknownTask
	case err != nil:
		ts.logger.Warn("tasks: store unavailable", "task", id, "error", err)
		return nil, errTaskStore
	case t.owner != ownerOf(ctx):
		return nil, errUnknownTask
	}
	return t, nil
}

// errTaskStore answers a tasks request the shared store could not serve.
var errTaskStore = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the task store is unavailable; try again"}

// tooManyTasks is the refusal of a call that would pass the store's caps.
func tooManyTasks() error {
	data, _ := json.Marshal(limits.RPCErrorData{Scope: "tasks", Reason: limits.ReasonQueueFull, RetryAfterMs: 1000})
	return &jsonrpc.Error{Code: limits.CodeOverloaded, Message: "too many tasks", Data: data}
}

// get is tasks/get's DetailedTask: the task, and its result, error or
// pending input requests.
func (ts *taskServer) get(t *task) mcp.Result {
	w := ts.envelope(t, "complete", func(w *jsonObject) {
		switch {
		case t.status == taskInputRequired && t.ask != nil:
			w.raw("inputRequests", t.ask.requestsJSON())
		case t.status == taskCompleted && t.result != nil:
			w.raw("result", t.result)
		case t.status == taskFailed && t.rpcErr != nil:
			w.raw("error", t.rpcErr)
		}
	})
	return w
}

// cancel is tasks/cancel: it cancels a task that has not ended, and
// acknowledges either way.
func (ts *taskServer) cancel(t *task) mcp.Result {
	t.mu.Lock()
	live := !terminal(t.status)
	if live {
		t.status, t.message, t.updated, t.ask = taskCancelled, "cancelled by the client", ts.now(), nil
	}
	t.mu.Unlock()
	if live {
		t.cancel()
		ts.store.changed(t, true)
		ts.logger.Debug("task cancelled", "task", t.id, "tool", t.tool)
	}
	return ack()
}

// forward serves tasks/update and tasks/cancel of a task another replica
// runs: a request the task's record shows to be moot (a cancel of an ended
// task, an update of one that waits for no input) is acknowledged here, as
// the owner would; the others go to the owner, which answers them.
func (ts *taskServer) forward(ctx context.Context, t *task, method string, responses map[string]json.RawMessage) (mcp.Result, error) {
	op := "cancel"
	if method == methodTasksUpdate {
		op = "update"
		if t.status != taskInputRequired || len(responses) == 0 {
			return ack(), nil
		}
	} else if terminal(t.status) {
		return ack(), nil
	}
	if err := ts.store.forward(ctx, t, op, responses); err != nil {
		return nil, err
	}
	return ack(), nil
}

// serveCommand serves a tasks/update or tasks/cancel that another replica
// forwarded (tasks_redis.go) for t, a task of this replica.
func (ts *taskServer) serveCommand(t *task, op string, responses map[string]json.RawMessage) error {
	if op == "update" {
		_, err := ts.update(t, responses)
		return err
	}
	ts.cancel(t)
	return nil
}

// envelope is the task's fields as a result of resultType rt, with more
// members from extra, all read under t.mu.
func (ts *taskServer) envelope(t *task, rt string, extra func(*jsonObject)) *rawResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := newJSONObject()
	w.str("resultType", rt)
	w.str("taskId", t.id)
	w.str("status", t.status)
	if t.message != "" {
		w.str("statusMessage", t.message)
	}
	w.str("createdAt", timestamp(t.created))
	w.str("lastUpdatedAt", timestamp(t.updated))
	w.int("ttlMs", t.ttl.Milliseconds())
	w.int("pollIntervalMs", max(ts.poll.Milliseconds(), 1))
	if extra != nil {
		extra(w)
	}
	return w.result()
}

// timestamp is an ISO 8601 time in UTC, to the millisecond.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ack is the empty acknowledgement of tasks/update and tasks/cancel.
func ack() mcp.Result {
	w := newJSONObject()
	w.str("resultType", "complete")
	return w.result()
}

// update is tasks/update: it answers the requests of the task's pending
// input round that inputResponses names. Answers to anything else are
// ignored; the round goes on once every request of it is answered.
func (ts *taskServer) update(t *task, responses map[string]json.RawMessage) (mcp.Result, error) {
	changed, err := ts.answer(t, responses)
	if err != nil {
		return nil, err
	}
	if changed {
		ts.store.changed(t, true)
	}
	return ack(), nil
}

// answer takes the answers of responses to t's pending input round, and
// reports whether it took any.
func (ts *taskServer) answer(t *task, responses map[string]json.RawMessage) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ask := t.ask
	if ask == nil || t.status != taskInputRequired {
		return false, nil
	}
	// Check every answer before taking any.
	answers := map[string]*mcpv1.InputResponse{}
	for key, raw := range responses {
		req, pending := ask.kinds[key]
		if !pending {
			continue
		}
		if _, open := ask.requests[key]; !open {
			continue
		}
		resp, err := inputResponse(key, raw, req)
		if err != nil {
			return false, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
		}
		answers[key] = resp
	}
	if len(answers) == 0 {
		return false, nil
	}
	for key, resp := range answers {
		ask.answers.Responses[key] = resp
		delete(ask.requests, key)
	}
	t.updated = ts.now()
	if len(ask.requests) == 0 {
		t.status, t.ask = taskWorking, nil
		close(ask.done)
	}
	return true, nil
}

// inputResponse converts the client's answer raw to the request req, keyed
// key, to the InputResponse the backend reads.
func inputResponse(key string, raw json.RawMessage, req *mcpv1.InputRequest) (*mcpv1.InputResponse, error) {
	one, err := json.Marshal(map[string]json.RawMessage{"r": raw})
	if err != nil {
		return nil, fmt.Errorf("inputResponses[%s]: %w", key, err)
	}
	var m mcp.InputResponseMap
	if err := json.Unmarshal(one, &m); err != nil {
		return nil, fmt.Errorf("inputResponses[%s]: %w", key, err)
	}
	v := m["r"]
	ok := false
	switch v.(type) {
	case *mcp.ElicitResult:
		ok = req.GetElicit() != nil
	case *mcp.CreateMessageResult, *mcp.CreateMessageWithToolsResult:
		ok = req.GetSampling() != nil
	case *mcp.ListRootsResult:
		ok = req.GetRoots() != nil
	}
	if !ok {
		return nil, fmt.Errorf("inputResponses[%s]: not an answer to the request of that key", key)
	}
	resp, err := bridge.InputResponseOf(v)
	if err != nil {
		return nil, fmt.Errorf("inputResponses[%s]: %w", key, err)
	}
	return resp, nil
}
