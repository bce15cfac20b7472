// The TypeScript SDK client against `toolwire stdio --demo`, spawned as a
// child process.
import { after, before, describe, test } from 'node:test';

import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { checkEcho, checkProgress, checkSearch, checkTools, connect, env } from './lib.mjs';

describe('stdio', { timeout: 120_000 }, () => {
  let client;
  before(async () => {
    const transport = new StdioClientTransport({
      command: env('TOOLWIRE_BIN'),
      args: ['stdio', '--demo'],
      stderr: 'inherit',
    });
    client = await connect(transport, 'stdio');
  });
  after(async () => {
    await client?.close();
  });

  test('tools/list shows every demo tool', async () => {
    await checkTools(client);
  });

  test('echo', async () => {
    await checkEcho(client, 'hello over stdio');
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
});
