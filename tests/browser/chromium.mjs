// What the browser tests (docs.mjs, console.mjs) share: Debian's Chromium driven by
// playwright-core with a fresh profile, and a run that collects failures, ends with a summary
// and never hangs (one deadline for the whole run).

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

// A run named `name` (the summary's first word): `fail` records a failure, `ok()` says whether
// none was, `finish(code)` exits (1 if anything failed). After `timeoutMs` the run fails and exits.
export function run(name, timeoutMs) {
  const failures = [];
  const fail = (message) => failures.push(message);
  const finish = (code) => {
    if (failures.length > 0) {
      console.error(`${name} FAILED (${failures.length}):`);
      for (const f of failures) console.error(`  - ${f}`);
      process.exit(1);
    }
    process.exit(code);
  };
  const deadline = setTimeout(() => {
    fail(`no result within ${timeoutMs / 1000} s`);
    finish(1);
  }, timeoutMs);
  deadline.unref();
  if (!existsSync(chromiumPath)) {
    fail(`${chromiumPath} is missing (Debian's chromium; scripts/setup installs it)`);
    finish(1);
  }
  return { fail, finish, ok: () => failures.length === 0 };
}

// Chromium with a fresh profile and this viewport; `close()` ends it and removes the profile.
// A browser that does not start ends the run.
export async function launch(prefix, viewport, { fail, finish }) {
  const userDataDir = mkdtempSync(join(tmpdir(), `${prefix}-chromium-`));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: 30_000,
    });
    const close = async () => {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    };
    return { context, close };
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    fail(`cannot start ${chromiumPath}: ${e.message.split("\n")[0]}`);
    finish(1);
  }
}
