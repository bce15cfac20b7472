// The TypeScript SDK client against toolwire over the legacy HTTP+SSE
// transport (2024-11-05: GET /sse + POST /message).
import { after, before, describe, test } from 'node:test';

import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

import { checkAbort, checkEcho, checkProgress, checkSearch, checkTools, connect, env, figure } from './lib.mjs';

describe('legacy sse', { timeout: 120_000 }, () => {
  let client;
  before(async () => {
    client = await connect(new SSEClientTransport(new URL(env('SSE_URL'))), 'sse');
  });
  after(async () => {
    await client?.close();
  });

  test('tools/list shows every demo tool', async () => {
    await checkTools(client);
  });

  test('echo', async () => {
    await checkEcho(client, 'hello over sse');
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
    figure('abort_to_gauge_zero_ms_sse', ms);
    await checkEcho(client, 'still here after abort');
  });
});
