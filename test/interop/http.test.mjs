// The TypeScript SDK client against toolwire over Streamable HTTP (/mcp).
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { clientSuite, env } from './lib.mjs';

clientSuite('streamable http', () => new StreamableHTTPClientTransport(new URL(env('MCP_URL'))), {
  abortFigure: 'abort_to_gauge_zero_ms',
});
