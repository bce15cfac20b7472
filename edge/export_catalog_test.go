package edge

// LazySessionIDs returns the ids of the Streamable HTTP sessions that have
// no SDK session (lazysession.go).
func (e *Edge) LazySessionIDs() []string {
	t := e.sessions
	t.mu.RLock()
	defer t.mu.RUnlock()
	var ids []string
	for id, s := range t.m {
		if s.sdkSession() == nil {
			ids = append(ids, id)
		}
	}
	return ids
}
