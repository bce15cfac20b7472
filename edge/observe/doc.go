// Package observe holds the edge's observability: Prometheus metrics for tool
// calls, request ids, and W3C trace context, so that a call can be followed
// from the agent through the edge to the backend.
package observe
