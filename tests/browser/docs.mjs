// The reference page in a real browser: opens BASE_URL/events/api/v1/docs in Debian's headless
// Chromium (driven by playwright-core, which never downloads a browser), waits for Swagger UI to
// render the service's OpenAPI document, and checks that
//   - the page is a 200 text/html at exactly that path (no redirect), with its CSP header;
//   - every operation of the document (fetched here from BASE_URL/events/api/v1/openapi.json) is
//     listed, by method and path, with its operationId, and nothing else is;
//   - every operation with `x-altinn-private: true` carries the "Private API" badge and no other
//     operation does; every tag whose description is "Private API" shows it; the expanded private
//     operation lists the `x-altinn-private` extension;
//   - no request leaves BASE_URL's origin, no request fails or answers >= 400, and the console shows
//     no error (CSP violations included) and the page throws nothing;
// then saves a full-page screenshot (default target/docs-page.png).
//
// Usage: node tests/browser/docs.mjs BASE_URL [SCREENSHOT.png]
// Exits 0 and prints "docs page OK" when every check passed; 1 with the list of failures otherwise
// (also when Chromium is missing: CHROMIUM, default /usr/bin/chromium, scripts/setup installs it).

import { mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { launch, run } from "./chromium.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PAGE_PATH = "/events/api/v1/docs";
const DOCUMENT_PATH = "/events/api/v1/openapi.json";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const TIMEOUT_MS = 60_000;
function usage(message) {
  console.error(`${message}\nusage: node tests/browser/docs.mjs BASE_URL [SCREENSHOT.png]`);
  process.exit(2);
}

const [baseArg, screenshotArg] = process.argv.slice(2);
if (!baseArg) usage("BASE_URL is missing");
let base;
try {
  base = new URL(baseArg);
} catch {
  usage(`not a URL: ${baseArg}`);
}
const origin = base.origin;
const pageUrl = origin + PAGE_PATH;
const screenshot = resolve(screenshotArg ?? join(repoRoot, "target", "docs-page.png"));

const { fail, finish, ok } = run("docs page", TIMEOUT_MS);

// 1. The document the page renders, as the service serves it.
const docResponse = await fetch(origin + DOCUMENT_PATH).catch((e) => {
  fail(`GET ${DOCUMENT_PATH}: ${e.message}`);
  finish(1);
});
if (!docResponse.ok) {
  fail(`GET ${DOCUMENT_PATH} answered ${docResponse.status}`);
  finish(1);
}
const doc = await docResponse.json();

const expected = new Map(); // "GET /path" -> { operationId, private }
for (const [path, item] of Object.entries(doc.paths ?? {})) {
  for (const method of METHODS) {
    const op = item?.[method];
    if (op && typeof op === "object") {
      expected.set(`${method.toUpperCase()} ${path}`, {
        operationId: op.operationId ?? null,
        private: op["x-altinn-private"] === true,
      });
    }
  }
}
const expectedPrivate = [...expected].filter(([, o]) => o.private).map(([k]) => k);
if (expected.size === 0) fail(`${DOCUMENT_PATH} has no operations`);
const privateTags = (doc.tags ?? [])
  .filter((t) => (t.description ?? "").trim() === "Private API")
  .map((t) => t.name);

// 2. The page, in Chromium with a fresh profile.
const { context, close } = await launch("docs-page", { width: 1400, height: 900 }, { fail, finish });

const requests = [];
try {
  // Nothing may leave the service's origin (no CDN, no fonts, no validator.swagger.io).
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (/^(data|blob):/.test(url) || new URL(url).origin === origin) return route.continue();
    fail(`request outside ${origin}: ${url}`);
    return route.abort("blockedbyclient");
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (r) => requests.push(r.url()));
  page.on("requestfailed", (r) => fail(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("response", (r) => {
    if (r.status() >= 400) fail(`${r.request().method()} ${r.url()} answered ${r.status()}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error") fail(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));

  const response = await page.goto(pageUrl, { waitUntil: "load" });
  if (!response) throw new Error(`no response for ${pageUrl}`);
  if (response.status() !== 200) fail(`${PAGE_PATH} answered ${response.status()}`);
  if (response.request().redirectedFrom()) fail(`${PAGE_PATH} was redirected to ${response.url()}`);
  const headers = response.headers();
  if (!(headers["content-type"] ?? "").startsWith("text/html")) {
    fail(`${PAGE_PATH} content-type is ${headers["content-type"]}`);
  }
  if (!(headers["content-security-policy"] ?? "").includes("script-src 'self'")) {
    fail(`${PAGE_PATH} has no Content-Security-Policy with script-src 'self'`);
  }

  // Rendered: the title and at least one block per operation (an operation under two tags is
  // listed twice), or Swagger UI's error box.
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll(".swagger-ui .opblock").length >= n ||
      document.querySelector(".swagger-ui .errors-wrapper, .swagger-ui .loading-container .info"),
    expected.size,
    { timeout: 30_000 }
  );
  await page.waitForLoadState("networkidle");
  const errorBox = await page.$(".swagger-ui .errors-wrapper");
  if (errorBox) fail(`Swagger UI shows errors: ${(await errorBox.innerText()).slice(0, 500)}`);
  const title = await page
    .$eval(".swagger-ui .info .title", (e) => e.textContent)
    .catch(() => "");
  if (doc.info?.title && !title.includes(doc.info.title)) {
    fail(`page title ${JSON.stringify(title)} lacks the document's ${JSON.stringify(doc.info.title)}`);
  }

  const listed = await page.$$eval(".swagger-ui .opblock", (blocks) =>
    blocks.map((b) => ({
      method: (b.querySelector(".opblock-summary-method")?.textContent ?? "").trim().toUpperCase(),
      path: b.querySelector(".opblock-summary [data-path]")?.getAttribute("data-path") ?? "",
      operationId: (b.querySelector(".opblock-summary-operation-id")?.textContent ?? "").trim(),
      badges: [...b.querySelectorAll(".opblock-summary .altinn-private-badge")].map((s) =>
        s.textContent.trim()
      ),
      visible: b.getBoundingClientRect().height > 0,
    }))
  );
  const seen = new Set();
  for (const block of listed) {
    const key = `${block.method} ${block.path}`;
    seen.add(key);
    const op = expected.get(key);
    if (!op) {
      fail(`the page lists ${key}, which the document does not have`);
      continue;
    }
    if (!block.visible) fail(`${key} is listed but not visible`);
    if (op.operationId && block.operationId !== op.operationId) {
      fail(`${key} shows operationId ${JSON.stringify(block.operationId)}, not ${op.operationId}`);
    }
    const marked = block.badges.length === 1 && block.badges[0] === "Private API";
    if (op.private && !marked) fail(`${key} is x-altinn-private but not marked Private API`);
    if (!op.private && block.badges.length > 0) fail(`${key} is not private but marked Private API`);
  }
  for (const key of expected.keys()) {
    if (!seen.has(key)) fail(`${key} (${expected.get(key).operationId}) is not listed on the page`);
  }

  for (const tag of privateTags) {
    const text = await page
      .$eval(`.swagger-ui .opblock-tag[data-tag="${tag.replace(/["\\]/g, "\\$&")}"]`, (e) => e.textContent)
      .catch(() => null);
    if (text === null) {
      const used = Object.values(doc.paths ?? {}).some((item) =>
        METHODS.some((m) => item?.[m]?.tags?.includes(tag))
      );
      if (used) fail(`tag ${tag} (Private API) has no section on the page`);
    } else if (!text.includes("Private API")) {
      fail(`tag ${tag}'s section does not say Private API: ${JSON.stringify(text.trim())}`);
    }
  }

  // showExtensions: the first private operation, expanded, lists x-altinn-private: true.
  let expandedNote = "no private operation to expand";
  if (expectedPrivate.length > 0) {
    const [method, ...rest] = expectedPrivate[0].split(" ");
    const path = rest.join(" ");
    const block = page
      .locator(".swagger-ui .opblock")
      .filter({ has: page.locator(`.opblock-summary-method:text-is("${method}")`) })
      .filter({ has: page.locator(`.opblock-summary [data-path="${path}"]`) })
      .first();
    await block.locator(".opblock-summary-control").click();
    const extension = block.locator(".opblock-body tr", { hasText: "x-altinn-private" });
    try {
      await extension.first().waitFor({ timeout: 10_000 });
      const row = (await extension.first().innerText()).replace(/\s+/g, " ").trim();
      if (!/x-altinn-private\s*"?true"?/.test(row)) {
        fail(`expanded ${expectedPrivate[0]}: extension row reads ${JSON.stringify(row)}`);
      }
      expandedNote = `expanded ${expectedPrivate[0]} lists "${row}"`;
    } catch {
      fail(`expanded ${expectedPrivate[0]} does not list the x-altinn-private extension`);
    }
  }

  await page.waitForLoadState("networkidle");
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);

  const tags = await page.$$eval(".swagger-ui .opblock-tag", (t) => t.length);
  console.log(
    `docs page: ${seen.size} of ${expected.size} operations listed in ${tags} tag sections ` +
      `(${expectedPrivate.length} x-altinn-private, each marked Private API; ` +
      `${privateTags.length} Private API tags)`
  );
  console.log(`docs page: ${expandedNote}`);
  console.log(`docs page: ${requests.length} requests, all to ${origin}`);
  const shown = screenshot.startsWith(process.cwd() + "/") ? relative(process.cwd(), screenshot) : screenshot;
  console.log(`docs page: screenshot ${shown} (1400x${height})`);
} catch (e) {
  fail(`${e.message.split("\n")[0]}`);
} finally {
  await close();
}

if (ok()) console.log("docs page OK");
finish(0);
