package edge

import (
	"errors"
	"testing"
	"time"
)

func TestMemTasks(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := newMemTasks(2, 3)
	s.now = func() time.Time { return now }
	newTask := func(id string) *task { return &task{id: id, ttl: time.Minute, status: taskWorking} }

	a, b, c := newTask("a"), newTask("b"), newTask("c")
	for _, x := range []*task{a, b} {
		if err := s.add(x); err != nil {
			t.Fatal(err)
		}
	}
	// Two running: the live cap refuses a third.
	if err := s.add(c); !errors.Is(err, errTooManyTasks) {
		t.Fatalf("third live task: %v", err)
	}
	s.ended(a)
	if err := s.add(c); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	// Three held: the kept cap refuses a fourth, until the ended one expires.
	s.ended(b)
	if err := s.add(newTask("d")); !errors.Is(err, errTooManyTasks) {
		t.Fatalf("fourth kept task: %v", err)
	}
	now = now.Add(30 * time.Second)
	if _, ok := s.local("a"); !ok {
		t.Fatal("an ended task expired before its TTL")
	}
	now = now.Add(31 * time.Second)
	if _, ok := s.local("a"); ok {
		t.Fatal("an ended task outlived its TTL")
	}
	if err := s.add(newTask("d")); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if _, ok := s.tasks["a"]; ok {
		t.Error("the expired task was not swept")
	}
	// A running task never expires; a removed one is gone at once.
	if _, ok := s.local("c"); !ok {
		t.Error("a running task expired")
	}
	s.remove(c)
	if _, ok := s.local("c"); ok || s.live != 1 {
		t.Errorf("after remove: found %v, live %d", ok, s.live)
	}
}
