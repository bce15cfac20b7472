package limits

// KeysForTest returns the number of keys the limiter keeps state for, over
// all scopes.
func (l *Limiter) KeysForTest() int {
	n := 0
	for _, p := range []*pool{l.principal, l.tool, l.global} {
		p.mu.Lock()
		n += len(p.keys)
		p.mu.Unlock()
	}
	return n
}
