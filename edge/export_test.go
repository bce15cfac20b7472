package edge

// FastServed is how many requests the fast path has answered.
func (e *Edge) FastServed() uint64 {
	if e.fast == nil {
		return 0
	}
	return e.fast.served.Load()
}
