package edge

// FastServed is how many requests the fast path has answered.
func (e *Edge) FastServed() uint64 {
	if e.fast == nil {
		return 0
	}
	return e.fast.served.Load()
}

// byIDForTest returns the live session the client knows as id.
func (t *sessionTable) byIDForTest(id string) *liveSession {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[id]
}
