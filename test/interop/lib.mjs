// Shared helpers for the interop tests. interop_test.go starts `toolwire demo`
// and runs these files with Node 22 and these variables set:
//
//   MCP_URL       Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp
//   SSE_URL       legacy HTTP+SSE endpoint, e.g. http://127.0.0.1:PORT/sse
//   METRICS_URL   Prometheus text, e.g. http://127.0.0.1:PORT/metrics
//   TOOLWIRE_BIN  the toolwire binary, for `toolwire stdio --demo`
//   TOOLWIRE_FIGURES_FILE  optional: FIGURE lines are appended here too
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';

export { sleep };

/** The tools `toolwire demo` serves. */
export const DEMO_TOOLS = ['echo', 'stream', 'sleep', 'search_documents', 'get_document'];

/** The in-flight gauge of the echo backend's Sleep handler. */
export const SLEEP_GAUGE = {
  name: 'toolwire_server_handlers_in_flight',
  method: '/examples.echo.v1.EchoService/Sleep',
};

/** env returns a required environment variable, or throws saying who sets it. */
export function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run these tests through interop_test.go (go test ./test/interop/)`);
  }
  return v;
}

/** figure prints one measured figure where CI output and people can find it. */
export function figure(name, value) {
  const line = `FIGURE ${name}=${value}`;
  console.log(line);
  if (process.env.TOOLWIRE_FIGURES_FILE) {
    appendFileSync(process.env.TOOLWIRE_FIGURES_FILE, line + '\n');
  }
}

/** connect opens an SDK client over transport. */
export async function connect(transport, name) {
  const client = new Client({ name: `toolwire-interop-${name}`, version: '0.0.0' });
  await client.connect(transport);
  return client;
}

/** checkTools asserts that tools/list shows every demo tool, described and with a schema. */
export async function checkTools(client) {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const want of DEMO_TOOLS) {
    assert.ok(names.includes(want), `tools/list lacks ${want}; got ${names.join(', ')}`);
  }
  for (const tool of tools.filter((t) => DEMO_TOOLS.includes(t.name))) {
    assert.equal(typeof tool.description, 'string', `${tool.name}: no description`);
    assert.ok(tool.description.trim().length > 0, `${tool.name}: empty description`);
    assert.equal(typeof tool.inputSchema, 'object', `${tool.name}: no inputSchema`);
    assert.equal(tool.inputSchema.type, 'object', `${tool.name}: inputSchema.type is not "object"`);
  }
  return tools;
}

/** checkEcho calls echo and asserts the text comes back as structured content. */
export async function checkEcho(client, text) {
  const res = await client.callTool({ name: 'echo', arguments: { text } });
  assert.ok(!res.isError, `echo returned an error: ${JSON.stringify(res)}`);
  assert.deepEqual(res.structuredContent, { text });
  assert.ok(Array.isArray(res.content), 'echo: no content array');
}

/**
 * checkSleep calls sleep to completion: it waits at least ms and reports the
 * milliseconds it actually waited.
 */
export async function checkSleep(client, ms) {
  const res = await client.callTool({ name: 'sleep', arguments: { ms } });
  assert.ok(!res.isError, `sleep returned an error: ${JSON.stringify(res)}`);
  const slept = res.structuredContent?.slept_ms;
  assert.ok(Number.isInteger(slept) && slept >= ms, `sleep {ms: ${ms}} reported ${JSON.stringify(res.structuredContent)}`);
}

/**
 * checkSearch calls search_documents for a word of the demo corpus and asserts
 * it finds at most limit documents, at least one, then fetches the first with
 * get_document.
 */
export async function checkSearch(client) {
  const limit = 3;
  const res = await client.callTool({ name: 'search_documents', arguments: { query: 'river', limit } });
  const shown = JSON.stringify(res);
  assert.ok(!res.isError, `search_documents returned an error: ${shown}`);
  assert.equal(typeof res.structuredContent, 'object', `search_documents: no structuredContent: ${shown}`);
  // The stream's messages are collected as {items: [{document: {...}}, ...]};
  // accept a flat list of documents too.
  const idOf = (row) => row?.document?.id ?? row?.id;
  const rows = Object.values(res.structuredContent ?? {}).find(
    (v) => Array.isArray(v) && v.every((row) => typeof idOf(row) === 'string'),
  );
  assert.ok(rows, `search_documents: no list of documents with ids: ${shown}`);
  assert.ok(rows.length >= 1 && rows.length <= limit, `search_documents returned ${rows.length} documents, want 1..${limit}: ${shown}`);
  for (const row of rows) {
    const doc = row.document ?? row;
    assert.match(`${doc.title} ${doc.body}`.toLowerCase(), /\briver\b/, `search_documents: ${idOf(row)} does not contain "river"`);
  }

  const id = idOf(rows[0]);
  const doc = await client.callTool({ name: 'get_document', arguments: { id } });
  assert.ok(!doc.isError, `get_document ${id} returned an error: ${JSON.stringify(doc)}`);
  assert.equal(doc.structuredContent?.document?.id, id, `get_document ${id}: ${JSON.stringify(doc)}`);
}

/**
 * checkProgress calls stream {n, interval_ms} runs times, and asserts that
 * each call delivers exactly n progress notifications to the onprogress
 * callback, strictly increasing, each with total n, then "done".
 *
 * The TypeScript SDK client loses a progress notification that it reads
 * together with the call's response: it dispatches notifications a microtask
 * late, and the response removes the progress handler first. A server that
 * writes the last progress and the result back to back therefore loses the
 * last notification in some calls only (10-50% measured here), so the tests
 * repeat the call to make that show.
 */
export async function checkProgress(client, n = 20, intervalMs = 10, runs = 1) {
  for (let run = 1; run <= runs; run++) {
    const seen = [];
    const res = await client.callTool(
      { name: 'stream', arguments: { n, interval_ms: intervalMs } },
      undefined,
      { onprogress: (p) => seen.push(p), timeout: 60_000 },
    );
    const where = `stream call ${run} of ${runs}`;
    assert.ok(!res.isError, `${where} returned an error: ${JSON.stringify(res)}`);
    assert.deepEqual(res.structuredContent, { result: 'done' }, where);
    assert.equal(seen.length, n,
      `${where}: want ${n} progress notifications, got ${seen.length}: ${seen.map((p) => p.progress).join(',')}`);
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i].progress > seen[i - 1].progress,
        `${where}: progress not strictly increasing at ${i}: ${seen[i - 1].progress} then ${seen[i].progress}`);
    }
    assert.equal(seen.at(-1).progress, n, `${where}: last progress is not n`);
    for (const p of seen) {
      assert.equal(p.total, n, `${where}: progress total ${p.total}, want ${n}`);
    }
  }
}

/**
 * sleepGauge reads the Sleep handler's in-flight gauge from the metrics page:
 * the sum over every series with that method label, or null if none is there.
 */
export async function sleepGauge(metricsUrl) {
  const res = await fetch(metricsUrl);
  assert.equal(res.status, 200, `GET ${metricsUrl}: ${res.status}`);
  const text = await res.text();
  let sum = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(SLEEP_GAUGE.name + '{')) continue;
    const close = line.lastIndexOf('}');
    if (!line.slice(0, close).includes(`method="${SLEEP_GAUGE.method}"`)) continue;
    const value = Number(line.slice(close + 1).trim().split(/\s+/)[0]);
    sum = (sum ?? 0) + value;
  }
  return sum;
}

/** waitFor polls fn every stepMs until it returns true, or gives up after limitMs. */
export async function waitFor(fn, limitMs, stepMs = 5) {
  const end = performance.now() + limitMs;
  for (;;) {
    if (await fn()) return true;
    if (performance.now() >= end) return false;
    await sleep(stepMs);
  }
}

/**
 * checkAbort calls sleep {ms: 20000}, checks the backend's in-flight gauge
 * reads 1, aborts the call ~300 ms in, and measures how long the gauge takes
 * to read 0: the time for a client's cancel to reach the backend's handler.
 * It returns the milliseconds from abort to the gauge reading 0.
 */
export async function checkAbort(client, metricsUrl) {
  const before = await sleepGauge(metricsUrl);
  assert.ok(before === null || before === 0, `Sleep gauge reads ${before} before the call; another sleep is running`);

  const ac = new AbortController();
  const start = performance.now();
  const call = client.callTool({ name: 'sleep', arguments: { ms: 20000 } }, undefined, {
    signal: ac.signal,
    timeout: 60_000,
  });
  const outcome = call.then((r) => ({ result: r }), (e) => ({ error: e }));

  let last = null;
  const running = await waitFor(async () => (last = await sleepGauge(metricsUrl)) === 1, 5000, 10);
  assert.ok(running, `the Sleep gauge never read 1 while sleep ran (last read: ${last})`);

  await sleep(Math.max(0, 300 - (performance.now() - start)));
  const abortedAt = performance.now();
  ac.abort(new Error('interop test abort'));

  const settled = await outcome;
  assert.ok(settled.error, `sleep resolved after abort: ${JSON.stringify(settled.result)}`);

  const zero = await waitFor(async () => (last = await sleepGauge(metricsUrl)) === 0, 10_000, 5);
  const elapsed = Math.round(performance.now() - abortedAt);
  assert.ok(zero, `the Sleep gauge still reads ${last} ${elapsed} ms after the abort: the cancel did not reach the backend`);
  return elapsed;
}

/**
 * clientSuite defines the tests every transport gets: list, echo, search,
 * progress (and that the last notification is never lost), and, when
 * abortFigure is given, an abort that must stop the backend handler, its
 * latency printed as FIGURE abortFigure=ms.
 */
export function clientSuite(name, makeTransport, { abortFigure } = {}) {
  describe(name, { timeout: 120_000 }, () => {
    let client;
    before(async () => {
      client = await connect(makeTransport(), name);
    });
    after(async () => {
      await client?.close();
    });

    test('tools/list shows every demo tool', async () => {
      await checkTools(client);
    });

    test('echo', async () => {
      await checkEcho(client, `hello over ${name}`);
    });

    test('search_documents, then get_document', async () => {
      await checkSearch(client);
    });

    test('sleep', async () => {
      await checkSleep(client, 25);
    });

    test('stream sends 20 increasing progress notifications', async () => {
      await checkProgress(client, 20, 10);
    });

    test('the last progress notification is never lost (20 calls)', async () => {
      await checkProgress(client, 5, 10, 20);
    });

    if (abortFigure) {
      test('aborting sleep stops the backend handler', async () => {
        const ms = await checkAbort(client, env('METRICS_URL'));
        figure(abortFigure, ms);
        // The session is still usable after a cancelled call.
        await checkEcho(client, 'still here after abort');
      });
    }
  });
}
