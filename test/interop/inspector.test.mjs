// The MCP Inspector v1 CLI (@modelcontextprotocol/inspector-cli) against
// toolwire over http, sse and stdio: tools/list and a tools/call of echo.
//
// The CLI's launcher (build/cli.js) re-spawns whatever `node` is on PATH, so
// build/index.js, the CLI proper, is run directly with this Node (22). It
// reads its own package.json as ../package.json from the working directory,
// so it runs from its build/ folder.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { DEMO_TOOLS, env } from './lib.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('@modelcontextprotocol/inspector-cli/package.json'));
const buildDir = join(pkgDir, 'build');

/** inspect runs the Inspector CLI with args and returns its parsed JSON output. */
async function inspect(args) {
  let out;
  try {
    out = await run(process.execPath, [join(buildDir, 'index.js'), ...args], {
      cwd: buildDir,
      timeout: 60_000,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    assert.fail(`inspector ${args.join(' ')} failed: ${err.message}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
  }
  try {
    return { json: JSON.parse(out.stdout), text: out.stdout };
  } catch {
    assert.fail(`inspector ${args.join(' ')} printed no JSON:\n${out.stdout}\nstderr: ${out.stderr}`);
  }
}

const targets = {
  http: () => [env('MCP_URL'), '--transport', 'http'],
  sse: () => [env('SSE_URL'), '--transport', 'sse'],
  // Options go before `--`; the server command's own arguments after it.
  stdio: () => [env('TOOLWIRE_BIN'), '--transport', 'stdio'],
};
const tail = { http: [], sse: [], stdio: ['--', 'stdio', '--demo'] };

for (const [name, target] of Object.entries(targets)) {
  describe(`inspector cli over ${name}`, { timeout: 120_000 }, () => {
    test('tools/list', async () => {
      const { json, text } = await inspect([...target(), '--method', 'tools/list', ...tail[name]]);
      const names = (json.tools ?? []).map((t) => t.name);
      for (const want of DEMO_TOOLS) {
        assert.ok(names.includes(want), `tools/list over ${name} lacks ${want}:\n${text}`);
      }
    });

    test('tools/call echo', async () => {
      const said = `inspector says hi over ${name}`;
      const { json, text } = await inspect([
        ...target(), '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', `text=${said}`, ...tail[name],
      ]);
      assert.ok(!json.isError, `echo over ${name} returned an error:\n${text}`);
      assert.ok(text.includes(said), `echo over ${name} did not echo:\n${text}`);
      assert.deepEqual(json.structuredContent, { text: said });
    });
  });
}
