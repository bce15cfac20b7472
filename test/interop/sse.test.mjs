// The TypeScript SDK client against toolwire over the legacy HTTP+SSE
// transport (2024-11-05: GET /sse + POST /message).
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

import { clientSuite, env } from './lib.mjs';

clientSuite('legacy sse', () => new SSEClientTransport(new URL(env('SSE_URL'))), {
  abortFigure: 'abort_to_gauge_zero_ms_sse',
});
