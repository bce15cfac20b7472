// The TypeScript SDK client against `toolwire stdio --demo`, spawned as a
// child process. Its backends live in that child, out of reach of the demo's
// /metrics, so the abort check runs over HTTP and SSE only.
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { clientSuite, env } from './lib.mjs';

clientSuite('stdio', () => new StdioClientTransport({
  command: env('TOOLWIRE_BIN'),
  args: ['stdio', '--demo'],
  stderr: 'inherit',
}));
