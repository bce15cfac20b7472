// The TypeScript SDK client against toolwire over Streamable HTTP (/mcp).
import { after, before, describe, test } from 'node:test';

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { checkAbort, checkEcho, checkProgress, checkSearch, checkTools, connect, env, figure } from './lib.mjs';

describe('streamable http', { timeout: 120_000 }, () => {
  let client;
  before(async () => {
    client = await connect(new StreamableHTTPClientTransport(new URL(env('MCP_URL'))), 'http');
  });
  after(async () => {
    await client?.close();
  });

  test('tools/list shows every demo tool', async () => {
    await checkTools(client);
  });

  test('echo', async () => {
    await checkEcho(client, 'hello over streamable http');
  });

  test('search_documents, then get_document', async () => {
    await checkSearch(client);
  });

  test('stream sends 20 increasing progress notifications', async () => {
    await checkProgress(client, 20, 10);
  });

  test('the last progress notification is never lost (20 calls)', async () => {
    await checkProgress(client, 5, 10, 20);
  });

  test('aborting sleep stops the backend handler', async () => {
    const ms = await checkAbort(client, env('METRICS_URL'));
    figure('abort_to_gauge_zero_ms', ms);
    // The session is still usable after a cancelled call.
    await checkEcho(client, 'still here after abort');
  });
});
