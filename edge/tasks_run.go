package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tidwall/gjson"
	"google.golang.org/grpc/codes"

	"github.com/toolwire/toolwire/edge/bridge"
	mcpv1 "github.com/toolwire/toolwire/gen/go/toolwire/mcp/v1"
)

// taskRun is one call of a task tool, from its start to its end. Before the
// call is a task (promotion), it is tied to the request that started it;
// after, to the task alone. Its methods (Sink, Asker, end) run on the
// call's goroutine, one at a time.
type taskRun struct {
	ts   *taskServer
	t    *task
	caps bridge.Capabilities
	// pre answers the input rounds of a bidi call before promotion: the
	// multi-round-trip asker of the request.
	pre bridge.Asker
	// promoted says the call is a task; decided is closed once it is, or
	// once the call ended before (sync then holds its answer).
	promoted bool
	decided  chan struct{}
	sync     *bridge.Answer
}

// start runs req, a call of tt from a client that declared the tasks
// extension, as a task, and returns the request's answer: a
// CreateTaskResult, or for a bidi call that needs input before it is a
// task, the input_required result.
func (ts *taskServer) start(ctx context.Context, req *mcp.CallToolRequest, tt *taskTool, caps bridge.Capabilities) (mcp.Result, error) {
	c := taskCall(req, caps)
	now := ts.now()
	t := &task{
		id: newTaskID(), owner: ownerOf(ctx), tool: tt.tool.Name, ttl: tt.ttl,
		created: now, updated: now, status: taskWorking,
	}
	run := &taskRun{ts: ts, t: t, caps: caps, decided: make(chan struct{})}
	bidi := tt.call.Bidi()
	if bidi {
		rt := &bridge.RoundTrip{State: req.Params.RequestState, Responses: req.Params.InputResponses}
		pre, err := tt.call.RoundTripAsker(ctx, c.Args, rt, caps)
		if err != nil {
			return nil, err
		}
		run.pre = pre
	} else {
		run.promoted = true
		close(run.decided)
	}
	c.Asker = run
	// The call keeps the request's values (principal, trace), not its end.
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel
	if err := ts.store.add(t); err != nil {
		cancel()
		return nil, tooManyTasks()
	}
	stopBase := context.AfterFunc(ts.base, cancel)
	// Until it is a task, the call ends with its request.
	stopReq := func() bool { return true }
	if bidi {
		stopReq = context.AfterFunc(ctx, cancel)
	}
	go func() {
		defer stopBase()
		defer cancel()
		a := tt.call.Call(callCtx, c, run)
		run.end(&a)
	}()
	if bidi {
		select {
		case <-run.decided:
		case <-ctx.Done():
			// The client went away before the call became a task: the
			// call is cancelled, and nobody will learn the task's id.
			return nil, ctx.Err()
		}
		stopReq()
	}
	if a := run.sync; a != nil {
		switch {
		case a.Dropped:
			return nil, context.Canceled
		case a.Err != nil:
			return nil, a.Err
		}
		return syncResult(a)
	}
	// The client learns the task's id now: its record must be readable
	// from every replica first.
	ts.store.changed(t, true)
	ts.logger.Debug("task created", "task", t.id, "tool", t.tool)
	return ts.envelope(t, "task", nil), nil
}

// taskCall is the bridge's view of req, as the bridge's own SDK handler
// builds it, with the capabilities the task decided on and without the
// multi-round-trip (the task's asker wraps it).
func taskCall(req *mcp.CallToolRequest, caps bridge.Capabilities) *bridge.Call {
	c := bridge.CallOf(req)
	c.Caps = caps
	return &c
}

// promote makes the call a task, once.
func (r *taskRun) promote() {
	if !r.promoted {
		r.promoted = true
		close(r.decided)
	}
}

// end records how the call ended.
func (r *taskRun) end(a *bridge.Answer) {
	if !r.promoted && (inputRequired(a) || a.Err != nil || a.Dropped) {
		// Never a task: the request answers itself (input_required, or a
		// JSON-RPC error), or it has gone.
		r.sync = a
		r.ts.store.remove(r.t)
		close(r.decided)
		return
	}
	r.ts.finish(r.t, a)
	r.promote()
}

// inputRequired reports whether a is an input_required result.
func inputRequired(a *bridge.Answer) bool {
	return a.Result != nil && (a.Result.InputRequests != nil || a.Result.RequestState != "")
}

// finish sets t's final status from a, unless it has one (cancelled), and
// starts its expiry.
func (ts *taskServer) finish(t *task, a *bridge.Answer) {
	status, result, rpcErr, msg := taskOutcome(a)
	t.mu.Lock()
	if !terminal(t.status) {
		t.status, t.result, t.rpcErr, t.ask = status, result, rpcErr, nil
		if msg != "" {
			t.message = msg
		}
		t.updated = ts.now()
	}
	t.mu.Unlock()
	ts.store.ended(t)
	ts.logger.Debug("task ended", "task", t.id, "tool", t.tool, "status", status)
}

// taskOutcome is the final status of a call that ended with a, with its
// result (completed) or error (failed) as JSON.
func taskOutcome(a *bridge.Answer) (status string, result, rpcErr json.RawMessage, msg string) {
	if a.Dropped {
		return taskCancelled, nil, nil, "cancelled"
	}
	if a.Err == nil && protocolFailure(a) {
		// A failure of the backend itself, not of the tool's work.
		text := "the backend failed"
		if len(a.Result.Content) > 0 {
			if tc, ok := a.Result.Content[0].(*mcp.TextContent); ok {
				text = tc.Text
			}
		}
		rpcErr, _ = json.Marshal(&jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: text})
		return taskFailed, nil, rpcErr, "failed"
	}
	out, err := a.AppendJSONRPC(nil, []byte("0"), bridge.ResultExtras{Complete: true})
	if err != nil {
		rpcErr, _ = json.Marshal(&jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error: " + err.Error()})
		return taskFailed, nil, rpcErr, "failed"
	}
	if e := gjson.GetBytes(out, "error"); e.Exists() {
		return taskFailed, nil, json.RawMessage(e.Raw), "failed"
	}
	return taskCompleted, json.RawMessage(gjson.GetBytes(out, "result").Raw), nil, ""
}

// protocolFailure reports whether a is a failure of the backend itself
// (INTERNAL, UNKNOWN, DATA_LOSS: a crash or a bug), which a task reports as
// failed, rather than of the tool's work.
func protocolFailure(a *bridge.Answer) bool {
	if a.Result == nil || !a.Result.IsError {
		return false
	}
	switch a.Code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return true
	}
	return false
}

// syncResult is the result of a call that answers its request itself.
func syncResult(a *bridge.Answer) (mcp.Result, error) {
	out, err := a.AppendJSONRPC(nil, []byte("0"), bridge.ResultExtras{Complete: true})
	if err != nil {
		return nil, err
	}
	return rawResultOf(json.RawMessage(gjson.GetBytes(out, "result").Raw))
}

// Progress is the task's statusMessage.
func (r *taskRun) Progress(_ context.Context, progress, total float64, message string) error {
	r.promote()
	if message == "" {
		message = strconv.FormatFloat(progress, 'g', -1, 64)
		if total > 0 {
			message += "/" + strconv.FormatFloat(total, 'g', -1, 64)
		}
	}
	r.t.mu.Lock()
	live := !terminal(r.t.status)
	if live {
		r.t.message, r.t.updated = message, r.ts.now()
	}
	r.t.mu.Unlock()
	if live {
		r.ts.store.changed(r.t, false)
	}
	return nil
}

// Log has nobody to go to; it makes the call a task.
func (r *taskRun) Log(context.Context, mcp.LoggingLevel, string, string) error {
	r.promote()
	return nil
}

// Settle has nothing to wait for.
func (r *taskRun) Settle(context.Context) {}

// Ask answers an input round: before promotion by the multi-round-trip
// protocol, after it through tasks/get and tasks/update.
func (r *taskRun) Ask(ctx context.Context, round int, reqs *mcpv1.InputRequests) (*mcpv1.InputResponses, error) {
	if !r.promoted && r.pre != nil {
		return r.pre.Ask(ctx, round, reqs)
	}
	r.promote()
	return r.ts.ask(ctx, r.t, r.caps, reqs)
}

// ask puts t in input_required with reqs until tasks/update has answered
// every request, and returns the answers. A request the client cannot be
// asked (a capability it did not declare) is answered by the edge.
func (ts *taskServer) ask(ctx context.Context, t *task, caps bridge.Capabilities, reqs *mcpv1.InputRequests) (*mcpv1.InputResponses, error) {
	a := &taskAsk{
		requests: map[string]json.RawMessage{},
		kinds:    map[string]*mcpv1.InputRequest{},
		answers:  &mcpv1.InputResponses{Responses: map[string]*mcpv1.InputResponse{}},
		done:     make(chan struct{}),
	}
	params := mcp.InputRequestMap{}
	for key, r := range reqs.GetRequests() {
		c, name := requestCap(r)
		if c == 0 {
			a.answers.Responses[key] = inputError(jsonrpc.CodeInvalidParams, "input request with no kind set")
			continue
		}
		if caps&c == 0 {
			a.answers.Responses[key] = inputError(mcp.CodeMissingRequiredClientCapabilities, "the client did not declare the "+name+" capability")
			continue
		}
		p, err := bridge.InputRequestOf(r)
		if err != nil {
			a.answers.Responses[key] = inputError(jsonrpc.CodeInvalidParams, err.Error())
			continue
		}
		params[key] = p
		a.kinds[key] = r
	}
	if len(params) == 0 {
		return a.answers, nil
	}
	all, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("input requests: %w", err)
	}
	gjson.ParseBytes(all).ForEach(func(k, v gjson.Result) bool {
		a.requests[k.Str] = json.RawMessage(v.Raw)
		return true
	})
	t.mu.Lock()
	if terminal(t.status) {
		t.mu.Unlock()
		return nil, context.Canceled
	}
	t.status, t.ask, t.updated = taskInputRequired, a, ts.now()
	t.mu.Unlock()
	ts.store.changed(t, false)
	select {
	case <-a.done:
		return a.answers, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// requestCap is the client capability an input request needs.
func requestCap(r *mcpv1.InputRequest) (bridge.Capabilities, string) {
	switch r.GetKind().(type) {
	case *mcpv1.InputRequest_Elicit:
		return bridge.CapElicitation, "elicitation"
	case *mcpv1.InputRequest_Sampling:
		return bridge.CapSampling, "sampling"
	case *mcpv1.InputRequest_Roots:
		return bridge.CapRoots, "roots"
	}
	return 0, ""
}

func inputError(code int64, msg string) *mcpv1.InputResponse {
	return &mcpv1.InputResponse{Kind: &mcpv1.InputResponse_Error{Error: &mcpv1.InputError{Code: int32(code), Message: msg}}}
}

// requestsJSON is the pending requests as tasks/get's inputRequests.
func (a *taskAsk) requestsJSON() json.RawMessage {
	w := newJSONObject()
	for k, v := range a.requests {
		w.raw(k, v)
	}
	return w.bytes()
}

// rawResult is a result the edge writes itself: body is a JSON object
// without _meta, and Meta (the SDK adds the server's identity) goes in
// front of it.
type rawResult struct {
	mcp.ResultBase
	body []byte
}

func (r *rawResult) MarshalJSON() ([]byte, error) {
	if len(r.Meta) == 0 {
		return r.body, nil
	}
	meta, err := json.Marshal(r.Meta)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(meta)+len(r.body)+10)
	out = append(out, `{"_meta":`...)
	out = append(out, meta...)
	if len(r.body) > 2 {
		out = append(out, ',')
	}
	return append(out, r.body[1:]...), nil
}

// rawResultOf makes a rawResult of the JSON object obj, whose _meta
// becomes the result's.
func rawResultOf(obj json.RawMessage) (*rawResult, error) {
	g := gjson.ParseBytes(obj)
	if !g.IsObject() {
		return nil, errors.New("a result is not a JSON object")
	}
	w := newJSONObject()
	var meta map[string]any
	var err error
	g.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "_meta" {
			err = json.Unmarshal([]byte(v.Raw), &meta)
			return err == nil
		}
		w.raw(k.Str, json.RawMessage(v.Raw))
		return true
	})
	if err != nil {
		return nil, err
	}
	r := w.result()
	r.Meta = meta
	return r, nil
}

// jsonObject writes a JSON object member by member.
type jsonObject struct{ b []byte }

func newJSONObject() *jsonObject { return &jsonObject{b: append(make([]byte, 0, 256), '{')} }

func (w *jsonObject) key(k string) {
	if len(w.b) > 1 {
		w.b = append(w.b, ',')
	}
	q, _ := json.Marshal(k)
	w.b = append(w.b, q...)
	w.b = append(w.b, ':')
}

func (w *jsonObject) str(k, v string) {
	w.key(k)
	s, _ := json.Marshal(v)
	w.b = append(w.b, s...)
}

func (w *jsonObject) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonObject) raw(k string, v json.RawMessage) {
	w.key(k)
	w.b = append(w.b, v...)
}

func (w *jsonObject) bytes() []byte { return append(w.b, '}') }

func (w *jsonObject) result() *rawResult { return &rawResult{body: w.bytes()} }
