package edge

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tidwall/gjson"
)

// serveTasks routes the 2026-07-28 POSTs of the tasks extension (tasks.go)
// to the SDK, whose middleware answers them: tasks/get, tasks/update and
// tasks/cancel, once their Mcp-Name header is checked, and calls of task
// tools, which the fast path must not answer. It reports whether it served
// r; dw is the writer the SDK writes to.
func (e *Edge) serveTasks(w, dw http.ResponseWriter, r *http.Request) bool {
	if e.tasks == nil {
		return false
	}
	switch method := r.Header.Get("Mcp-Method"); method {
	case "tools/call":
		if !e.tasks.isTaskTool(strings.TrimSpace(r.Header.Get("Mcp-Name"))) {
			return false
		}
	case methodTasksGet, methodTasksUpdate, methodTasksCancel:
		if !checkTaskName(w, r, method) {
			return true
		}
	default:
		return false
	}
	e.stateless.ServeHTTP(dw, r)
	return true
}

// maxTaskBody bounds the body of a tasks request the edge reads to check
// its Mcp-Name; a larger one goes to the SDK unread by the edge.
const maxTaskBody = 1 << 20

// checkTaskName checks that a tasks request's Mcp-Name header is its
// params.taskId, as SEP-2663 requires of tasks/get, tasks/update and
// tasks/cancel; a missing or different one is answered with HTTP 400 and
// -32020 (header mismatch), and checkTaskName reports false. A body that is
// not such a request goes on to the SDK as it came, to be judged there.
func checkTaskName(w http.ResponseWriter, r *http.Request, method string) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTaskBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil || len(body) > maxTaskBody || !gjson.ValidBytes(body) {
		return true
	}
	msg := gjson.ParseBytes(body)
	id := msg.Get("id")
	taskID := msg.Get("params.taskId")
	if msg.Get("method").Str != method || !id.Exists() || taskID.Type != gjson.String {
		return true
	}
	name, ok := r.Header["Mcp-Name"]
	if ok && len(name) == 1 && strings.TrimSpace(name[0]) == taskID.Str {
		return true
	}
	detail := "missing Mcp-Name header for method " + method
	if ok {
		detail = "header mismatch: Mcp-Name header does not match params.taskId"
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(appendRPCError(nil, id.Raw, mcp.CodeHeaderMismatch, detail))
	return false
}
