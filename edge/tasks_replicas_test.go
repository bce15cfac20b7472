package edge_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/toolwire/toolwire/edge"
	"github.com/toolwire/toolwire/edge/policy/authn"
)

// replicas are two edges, A and B, sharing one Redis and one backend,
// authenticating the same API keys.
type replicas struct {
	// a and b are alice's clients of A and B; bobB is bob's client of B.
	a, b, bobB *taskFixture
	// redisA is A's Redis client: closing it cuts A off.
	redisA *redis.Client
}

func newReplicas(t *testing.T, lease time.Duration) *replicas {
	t.Helper()
	url := edge.TaskRedisURL(t)
	prefix := fmt.Sprintf("toolwire-test:%s:%d:", t.Name(), time.Now().UnixNano())
	keyAlice, hashAlice := authn.GenerateAPIKey()
	keyBob, hashBob := authn.GenerateAPIKey()
	keys, err := authn.NewAPIKeys([]authn.APIKey{{Hash: hashAlice, Subject: "alice"}, {Hash: hashBob, Subject: "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authn.New(&authn.Options{APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	backend, resolve, cat := startTaskBackend(t)
	client := func() *redis.Client {
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opt)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	r := &replicas{redisA: client()}
	redisB := client()
	urlA := newTaskEdge(t, cat, resolve, &edge.Options{Auth: auth, Tasks: &edge.TaskOptions{Redis: r.redisA, RedisPrefix: prefix, Lease: lease}})
	urlB := newTaskEdge(t, cat, resolve, &edge.Options{Auth: auth, Tasks: &edge.TaskOptions{Redis: redisB, RedisPrefix: prefix, Lease: lease}})
	as := func(url, key string) *taskFixture {
		return &taskFixture{backend: backend, url: url, headers: []string{"Authorization", "Bearer " + key}}
	}
	r.a, r.b, r.bobB = as(urlA, keyAlice), as(urlB, keyAlice), as(urlB, keyBob)
	return r
}

// A task created on A is served by B: its status, then its inlined result;
// another principal does not see it on either.
func TestTaskReplicasGet(t *testing.T) {
	r := newReplicas(t, 0)
	id := r.a.create(t, "work", map[string]any{"mode": "progress"})
	if got := r.b.get(t, id); got["status"] != "working" || got["result"] != nil {
		t.Errorf("on B, running: %v", got)
	}
	r.b.await(t, id, func(res map[string]any) bool { return res["statusMessage"] == "half way" })
	close(r.a.backend.release)
	res := r.b.await(t, id, taskEnded)
	inlined, _ := res["result"].(map[string]any)
	if res["status"] != "completed" || !strings.Contains(fmt.Sprint(inlined["content"]), "worked progress") {
		t.Errorf("on B, ended: %v", res)
	}
	for _, k := range []string{"createdAt", "lastUpdatedAt", "ttlMs", "pollIntervalMs"} {
		if res[k] == nil {
			t.Errorf("on B, no %s: %v", k, res)
		}
	}
	if got := r.a.get(t, id); got["status"] != "completed" || got["createdAt"] != res["createdAt"] {
		t.Errorf("on A: %v", got)
	}
	// Bob knows the id, but the task is alice's, on every replica.
	for _, m := range []string{"tasks/get", "tasks/cancel", "tasks/update"} {
		r.bobB.rpc(t, m, map[string]any{"taskId": id, "inputResponses": map[string]any{}}, tasksExt).code(t, -32602, 400)
	}
}

// tasks/cancel on B cancels the call running under A.
func TestTaskReplicasCancel(t *testing.T) {
	r := newReplicas(t, 0)
	id := r.a.create(t, "work", map[string]any{"mode": "wait"})
	select {
	case <-r.a.backend.started:
	case <-time.After(waitBound):
		t.Fatal("the backend call did not start")
	}
	r.bobB.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).code(t, -32602, 400)
	ack := r.b.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).ok(t)
	if ack["resultType"] != "complete" || len(ack) > 2 {
		t.Errorf("tasks/cancel ack = %v", ack)
	}
	select {
	case <-r.a.backend.ended:
	case <-time.After(waitBound):
		t.Fatal("cancelling the task on B did not cancel the backend's call on A")
	}
	for name, f := range map[string]*taskFixture{"A": r.a, "B": r.b} {
		if res := f.await(t, id, taskEnded); res["status"] != "cancelled" || res["result"] != nil {
			t.Errorf("on %s: %v", name, res)
		}
	}
	// A cancel of an ended task is acknowledged on B too.
	r.b.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).ok(t)
}

// tasks/update on B answers the input round of a task on A.
func TestTaskReplicasUpdate(t *testing.T) {
	r := newReplicas(t, 0)
	caps := map[string]any{"elicitation": map[string]any{}, "extensions": tasksExt["extensions"]}
	res := r.a.call(t, "ask", map[string]any{"plan": "progress,ask2"}, caps)
	checkCreated(t, res)
	id := res["taskId"].(string)
	got := r.b.await(t, id, statusIs("input_required"))
	if reqs, _ := got["inputRequests"].(map[string]any); len(reqs) != 2 || reqs["a"] == nil || reqs["b"] == nil {
		t.Fatalf("on B, inputRequests = %v", got)
	}
	// A malformed answer is refused by A, through B.
	r.b.rpc(t, "tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{"a": map[string]any{"roots": []any{}}}}, tasksExt).code(t, -32602, 400)
	answer := func(key, name string) {
		ack := r.b.rpc(t, "tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{
			key: map[string]any{"action": "accept", "content": map[string]any{"name": name}},
		}}, tasksExt).ok(t)
		if ack["resultType"] != "complete" || ack["taskId"] != nil {
			t.Errorf("tasks/update ack = %v", ack)
		}
	}
	answer("a", "Ann")
	// The owner stored the partial answer before it acknowledged it.
	got = r.b.get(t, id)
	if reqs, _ := got["inputRequests"].(map[string]any); got["status"] != "input_required" || len(reqs) != 1 || reqs["b"] == nil {
		t.Fatalf("on B, after a partial answer: %v", got)
	}
	answer("b", "Bob")
	for name, f := range map[string]*taskFixture{"A": r.a, "B": r.b} {
		res := f.await(t, id, taskEnded)
		if res["status"] != "completed" || !strings.Contains(fmt.Sprint(res["result"]), "a=Ann b=Bob") {
			t.Errorf("on %s: %v", name, res)
		}
	}
}

// A replica cut off from Redis abruptly: once its lease lapses, B reports
// its task failed, for good.
func TestTaskReplicasOwnerGone(t *testing.T) {
	const lease = 300 * time.Millisecond
	r := newReplicas(t, lease)
	id := r.a.create(t, "work", map[string]any{"mode": "wait"})
	<-r.a.backend.started
	// Working while A renews its lease.
	time.Sleep(2 * lease)
	if got := r.b.get(t, id); got["status"] != "working" {
		t.Fatalf("on B, A alive: %v", got)
	}
	_ = r.redisA.Close()
	start := time.Now()
	res := r.b.await(t, id, taskEnded)
	e, _ := res["error"].(map[string]any)
	if res["status"] != "failed" || !strings.Contains(fmt.Sprint(res["statusMessage"]), "replica") ||
		e["code"] != float64(-32603) || !strings.Contains(fmt.Sprint(e["message"]), "went away") {
		t.Errorf("on B, A gone: %v", res)
	}
	if d := time.Since(start); d > lease+waitBound {
		t.Errorf("failed after %v, lease %v", d, lease)
	}
	// Cancel and update of the failed task are acknowledged, and change
	// nothing.
	r.b.rpc(t, "tasks/cancel", map[string]any{"taskId": id}, tasksExt).ok(t)
	if got := r.b.get(t, id); got["status"] != "failed" {
		t.Errorf("after cancel: %v", got)
	}
}
