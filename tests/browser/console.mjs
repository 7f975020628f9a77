// The web console in a real browser (issue 16): Debian's headless Chromium, driven by playwright-core
// (which never downloads a browser), against the worker under `wrangler dev` and a loopback webhook
// receiver that tests/tests/console.rs runs. Every step goes through the console's own controls:
//   1. the sign-in page (no token yet); a token the service does not trust: the list's failure
//      state with the API's 401 problem; signed out, then a token pasted and submitted with the
//      keyboard only;
//   2. Subscriptions: the empty state; a refused subscription shows the API's own message (the same
//      text the API answers to that body, fetched here); a subscription to the receiver is created,
//      its one-time secret shown, and its row turns "validated";
//   3. Events: an event published with the publish form; read from the start; its JSON on click
//      (keyboard); "Follow (live)" opens one `Accept: text/event-stream` request of the read (after
//      the last event shown; no polling while it is open) and picks up a second event published
//      meanwhile; switching it off aborts that request;
//   4. one subscription: the first event delivered in the attempt log (success, 200);
//      the receiver is told to fail (503), a third event is published, its three failed attempts
//      and its dead letter appear; the receiver is fixed, "Redeliver dead letters" answers
//      "1 redelivered", and the event's successful attempt appears, the dead letters empty;
//      a replay of the last ten minutes queues the 3 events again; the secret is rotated;
//   5. on each view: axe-core (@axe-core/playwright), no serious or critical violation; no request
//      leaves the origin, no console error (CSP violations included), no page error;
//   6. a screenshot of each view in SCREENSHOT_DIR (default target/console/);
//   7. a new tab opened at `…/events/console/#token=…` (what `altinn-events token show --console`
//      and scripts/console print) is signed in, with the token gone from the address bar (the
//      console replaces the history entry).
//
// The receiver is steered over stdio: the script prints `CONTROL fail` / `CONTROL heal` and waits
// for `ok fail` / `ok heal` on stdin.
//
// Usage: CONSOLE_TOKEN=… RECEIVER_URL=… RESOURCE=urn:altinn:resource:… EVENT_IDS=a,b,c \
//          node tests/browser/console.mjs BASE_URL [SCREENSHOT_DIR]
// Exits 0 and prints "console OK" when every check passed; 1 with the failures otherwise (also when
// Chromium is missing: CHROMIUM, default /usr/bin/chromium; scripts/setup installs it).

import { mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { AxeBuilder } from "@axe-core/playwright";
import { launch, run } from "./chromium.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CONSOLE_PATH = "/events/console/";
const TIMEOUT_MS = 150_000;
const STEP_MS = 30_000;
function usage(message) {
  console.error(`${message}\nusage: node tests/browser/console.mjs BASE_URL [SCREENSHOT_DIR]`);
  process.exit(2);
}

const [baseArg, shotsArg] = process.argv.slice(2);
if (!baseArg) usage("BASE_URL is missing");
const origin = new URL(baseArg).origin;
const shots = resolve(shotsArg ?? join(repoRoot, "target", "console"));
const token = process.env.CONSOLE_TOKEN;
const receiverUrl = process.env.RECEIVER_URL;
const resource = process.env.RESOURCE;
const [delivered, followed, dead] = (process.env.EVENT_IDS ?? "").split(",");
if (!token || !receiverUrl || !resource || !dead) usage("CONSOLE_TOKEN, RECEIVER_URL, RESOURCE and EVENT_IDS (3) are required");

const { fail, finish, ok } = run("console", TIMEOUT_MS);

// The receiver, steered by the test over stdio.
const stdin = createInterface({ input: process.stdin });
const replies = stdin[Symbol.asyncIterator]();
async function control(what) {
  console.log(`CONTROL ${what}`);
  const { value, done } = await replies.next();
  if (done || value.trim() !== `ok ${what}`) throw new Error(`receiver control ${what}: got ${value}`);
}

const step = (name) => console.log(`console: ${name}`);

function event(id, type) {
  return {
    specversion: "1.0",
    id,
    source: "https://example.com/console-test",
    type,
    resource,
    subject: "/party/50001337",
    time: new Date().toISOString(),
    data: { test: type },
  };
}

const { context, close } = await launch("console", { width: 1280, height: 800 }, { fail, finish });

const expected4xx = [];
let axeChecked = 0;
try {
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (/^(data|blob):/.test(url) || new URL(url).origin === origin) return route.continue();
    fail(`request outside ${origin}: ${url}`);
    return route.abort("blockedbyclient");
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  // The live stream's request, aborted on purpose when Follow is switched off, is no failure.
  const expectedAborts = new Set();
  page.on("requestfailed", (r) => {
    if (!expectedAborts.has(r)) fail(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !expected4xx.some((p) => r.url().includes(p))) {
      fail(`${r.request().method()} ${r.url()} answered ${r.status()}`);
    }
  });
  page.on("console", (m) => {
    // A refused request the console shows on purpose is logged by Chromium as a resource error.
    if (m.type() === "error" && !/the server responded with a status of (400|401)/.test(m.text())) {
      fail(`console error: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));

  async function axe(view) {
    const result = await new AxeBuilder({ page }).analyze();
    axeChecked++;
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of bad) {
      const nodes = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ");
      fail(`${view}: axe ${v.impact} ${v.id}: ${v.help} (${nodes})`);
    }
    step(`${view}: axe ${result.passes.length} rules passed, ${result.violations.length} violations (${bad.length} serious or critical)`);
  }
  async function shot(name) {
    mkdirSync(shots, { recursive: true });
    const path = join(shots, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
  }

  // 1. Sign in, with the keyboard.
  const response = await page.goto(origin + CONSOLE_PATH, { waitUntil: "load" });
  if (response.status() !== 200) fail(`${CONSOLE_PATH} answered ${response.status()}`);
  const csp = response.headers()["content-security-policy"] ?? "";
  if (!csp.includes("default-src 'none'") || !csp.includes("script-src 'self'")) {
    fail(`${CONSOLE_PATH} has no strict Content-Security-Policy: ${csp}`);
  }
  const tokenField = page.getByLabel("Altinn token");
  await tokenField.waitFor();
  await axe("sign-in");
  await shot("signin");

  // A token the service does not trust: the list's failure state, in the API's words.
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const forged = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ "urn:altinn:org": "ttd", exp: 4102444800 })}.c2ln`;
  expected4xx.push("/events/api/v1/subscriptions");
  await tokenField.fill(forged);
  await page.getByRole("button", { name: "Sign in" }).click();
  const refused = page.locator(".api-error").filter({ hasText: "Could not list your subscriptions" });
  await refused.waitFor();
  const refusedText = (await refused.innerText()).replace(/\s+/g, " ");
  if (!refusedText.includes("401") || !refusedText.includes("No valid token")) {
    fail(`an untrusted token shows ${JSON.stringify(refusedText)}`);
  }
  await page.getByRole("button", { name: "Sign out" }).click();
  await tokenField.waitFor();
  expected4xx.pop();
  await page.reload({ waitUntil: "load" });
  await tokenField.waitFor();
  step(`an untrusted token: the list shows ${JSON.stringify(refusedText)}; signed out`);
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  if (first !== "Skip to content") fail(`the first Tab stop is ${JSON.stringify(first)}, not the skip link`);
  for (let i = 0; i < 10 && !(await tokenField.evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  if (!(await tokenField.evaluate((e) => e === document.activeElement))) fail("the token field is not reachable with Tab");
  await page.keyboard.insertText(token);
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
  if (focused !== "Sign in") fail(`Tab after the token field reaches ${JSON.stringify(focused)}, not "Sign in"`);
  await page.keyboard.press("Enter");
  await page.getByTestId("identity").getByText("Signed in as organisation ttd").waitFor();
  if (await page.evaluate((t) => document.documentElement.outerHTML.includes(t), token)) {
    fail("the token appears in the page");
  }
  const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length]);
  if (stored[0] !== 1 || stored[1] !== 0) fail(`session/local storage hold ${stored} items, expected 1/0`);
  step("signed in with the keyboard; the token is in session storage only");

  // 2. Subscriptions: empty, a refusal in the API's words, then a subscription to the receiver.
  await page.getByText("You have no subscriptions yet.").waitFor();
  const bad = { endPoint: "ftp://example.com/hook", resourceFilter: resource };
  const refusal = await fetch(`${origin}/events/api/v1/subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(bad),
  });
  const refusalText = await refusal.text();
  let apiWords = refusalText;
  try {
    const parsed = JSON.parse(refusalText);
    apiWords = typeof parsed === "string" ? parsed : parsed.detail ?? parsed.title;
  } catch {}
  if (refusal.status !== 400 || !apiWords) fail(`the API accepted ${JSON.stringify(bad)}: ${refusal.status} ${refusalText}`);
  expected4xx.push("/events/api/v1/subscriptions");
  await page.getByLabel("Endpoint").fill(bad.endPoint);
  await page.getByLabel("Resource filter").fill(resource);
  await page.getByRole("button", { name: "Create subscription" }).click();
  const shown = page.locator(".api-error").filter({ hasText: "The service refused the subscription" });
  await shown.waitFor();
  const shownText = (await shown.innerText()).replace(/\s+/g, " ");
  if (!shownText.includes(apiWords) || !shownText.includes("400")) {
    fail(`the refusal shows ${JSON.stringify(shownText)}, not the API's ${JSON.stringify(apiWords)}`);
  }
  expected4xx.pop();
  step(`a refused subscription shows the API's words: ${JSON.stringify(apiWords)}`);

  await page.getByLabel("Endpoint").fill(receiverUrl);
  await page.getByRole("button", { name: "Create subscription" }).click();
  const secret = await page.getByTestId("created-secret").innerText();
  if (!/^whsec_[A-Za-z0-9+/=]{40,}$/.test(secret)) fail(`the one-time secret reads ${JSON.stringify(secret)}`);
  const heading = await page.locator(".one-time h3").innerText();
  const id = Number(/Subscription (\d+) created/.exec(heading)?.[1]);
  if (!id) throw new Error(`no subscription id in ${JSON.stringify(heading)}`);
  const row = page.locator(`[data-testid="subscriptions"] tr[data-subscription="${id}"]`);
  await row.waitFor();
  if (!(await row.innerText()).includes(receiverUrl)) fail(`row ${id} does not show ${receiverUrl}`);
  for (let i = 0; i < 30 && !(await row.getByText("validated", { exact: true }).count()); i++) {
    await page.getByRole("button", { name: "Refresh", exact: true }).click();
    await page.waitForTimeout(500);
  }
  if (!(await row.getByText("validated", { exact: true }).count())) fail(`subscription ${id} is not shown validated`);
  await row.getByText("active", { exact: true }).waitFor();
  console.log(`SUBSCRIPTION ${id}`);
  step(`subscription ${id} created, its secret shown once, shown active and validated`);
  await page.getByRole("button", { name: "Hide the secret" }).click();
  await axe("subscriptions");
  await shot("subscriptions");

  // 3. Events: publish, read, JSON on click, follow.
  await page.getByRole("link", { name: "Events", exact: true }).click();
  await page.getByLabel("Resource", { exact: true }).fill(resource);
  const publishField = page.getByLabel("CloudEvent (JSON)");
  async function publish(ev) {
    await publishField.fill(JSON.stringify(ev, null, 2));
    await page.getByRole("button", { name: "Publish", exact: true }).click();
    await page.getByTestId("publish-result").getByText(`Published event ${ev.id}.`).waitFor();
  }
  await publish(event(delivered, "console.delivered"));
  await page.getByRole("button", { name: "Read from the start" }).click();
  const eventRow = (eventId) => page.locator(`[data-testid="events"] tr[data-event="${eventId}"]`);
  await eventRow(delivered).waitFor();
  const idButton = eventRow(delivered).getByRole("button", { name: delivered });
  await idButton.focus();
  await page.keyboard.press("Enter");
  const json = JSON.parse(await page.locator("pre.json").innerText());
  if (json.id !== delivered || json.resource !== resource || json.data?.test !== "console.delivered") {
    fail(`the event's JSON reads ${JSON.stringify(json)}`);
  }
  // Follow (live): one request of the read with `Accept: text/event-stream`, from the cursor after
  // the last event shown, and no plain (polling) request of the read while following; the event
  // published meanwhile arrives on it; unchecking aborts that request.
  const readPath = "/events/api/v1/events";
  const reads = [];
  const onRead = (r) => {
    const u = new URL(r.url());
    if (r.method() === "GET" && u.origin === origin && u.pathname === readPath) reads.push(r);
  };
  page.on("request", onRead);
  const followBox = page.getByLabel("Follow (live)");
  await followBox.check();
  // Connected: live on the stream, or polling when the server answered a plain page (the network
  // checks below then fail, with the requests seen).
  await page.locator('[data-follow="live"], [data-follow="polling"]').waitFor();
  const connected = await page.locator("[data-follow]").getAttribute("data-follow");
  if (connected !== "live") fail(`Follow is ${JSON.stringify(connected)}, not on the live stream`);
  await publish(event(followed, "console.followed"));
  await eventRow(followed).waitFor();
  // Longer than the old poll interval (2 s): a poll, were there one, would have been sent.
  await page.waitForTimeout(2500);
  const order = await page.$$eval('[data-testid="events"] tbody tr', (rows) => rows.map((r) => r.dataset.event));
  if (order.join() !== [delivered, followed].join()) fail(`events listed as ${order}, expected oldest first, once each`);
  const isStream = (r) => (r.headers()["accept"] ?? "").includes("text/event-stream");
  const streams = reads.filter(isStream);
  const polls = reads.filter((r) => !isStream(r));
  if (streams.length !== 1) fail(`${streams.length} stream requests of ${readPath} while following, expected 1`);
  if (polls.length !== 0) fail(`${polls.length} plain (polling) requests of ${readPath} while following: ${polls.map((r) => r.url())}`);
  const streamRequest = streams[0];
  if (streamRequest) {
    const url = new URL(streamRequest.url());
    if (url.searchParams.get("after") !== delivered) fail(`the stream starts after ${url.searchParams.get("after")}, not after ${delivered}`);
    if (!(streamRequest.headers()["authorization"] ?? "").startsWith("Bearer ")) fail("the stream request carries no bearer token");
    const answer = await streamRequest.response();
    const type = answer?.headers()["content-type"] ?? "";
    if (answer?.status() !== 200 || !type.startsWith("text/event-stream")) fail(`the stream request answered ${answer?.status()} ${type}`);
  }
  step(`follow: 1 stream request (after=${delivered}, text/event-stream), ${polls.length} polls; it delivered ${followed}`);
  await axe("events");
  await shot("events");
  // Switching Follow off aborts the stream request (Chromium reports it failed, net::ERR_ABORTED).
  if (streamRequest) expectedAborts.add(streamRequest);
  const aborted = streamRequest
    ? page.waitForEvent("requestfailed", { predicate: (r) => r === streamRequest, timeout: 10_000 }).catch(() => null)
    : Promise.resolve(null);
  await followBox.uncheck();
  await page.locator('[data-follow="off"]').waitFor();
  const failedStream = await aborted;
  if (streamRequest && !failedStream) fail("unchecking Follow did not abort the stream request");
  else if (failedStream && !/ABORTED/i.test(failedStream.failure()?.errorText ?? "")) {
    fail(`the stream request ended with ${failedStream.failure()?.errorText}, not an abort`);
  }
  page.off("request", onRead);
  if (reads.length !== streams.length + polls.length) fail(`${readPath} was read again after Follow was switched off`);
  step(`follow off: the stream request was aborted (${failedStream?.failure()?.errorText}), no read since`);

  // 4. One subscription: delivered, failed into a dead letter, redelivered.
  await page.getByRole("link", { name: "Subscriptions", exact: true }).click();
  await page.locator(`[data-testid="subscriptions"] tr[data-subscription="${id}"] a`).click();
  await page.getByRole("heading", { name: `Subscription ${id}` }).waitFor();
  const attempt = (eventId, outcome) =>
    page.locator(`[data-testid="attempts"] tr[data-event="${eventId}"][data-outcome="${outcome}"]`);
  await attempt(delivered, "success").first().waitFor();
  const okText = (await attempt(delivered, "success").first().innerText()).replace(/\s+/g, " ");
  if (!/\b200\b/.test(okText) || !/\d+ ms/.test(okText)) fail(`the delivered attempt reads ${JSON.stringify(okText)}`);
  await attempt(followed, "success").first().waitFor();
  await page.getByText("No dead letters.").waitFor();
  step(`the attempt log shows ${delivered} delivered: ${okText}`);

  await control("fail");
  await page.getByRole("link", { name: "Events", exact: true }).click();
  await publish(event(dead, "console.dead"));
  await page.goto(`${origin}${CONSOLE_PATH}#/subscriptions/${id}`);
  await page.locator(`[data-testid="dead-letters"] tr[data-event="${dead}"]`).waitFor();
  const failed = await attempt(dead, "http_error").count();
  if (failed !== 3) fail(`${failed} failed attempts of ${dead} listed, expected 3 (DELIVERY_RETRY_DELAYS=1,1)`);
  const failedText = (await attempt(dead, "http_error").first().innerText()).replace(/\s+/g, " ");
  if (!failedText.includes("503") || !failedText.includes("Service Unavailable")) {
    fail(`the failed attempt reads ${JSON.stringify(failedText)}`);
  }
  const deadRow = (await page.locator(`[data-testid="dead-letters"] tr[data-event="${dead}"]`).innerText()).replace(/\s+/g, " ");
  if (!deadRow.includes("console.dead") || !deadRow.includes("503")) fail(`the dead letter reads ${JSON.stringify(deadRow)}`);
  await page.getByTestId("dead-letter-count").getByText("1", { exact: true }).waitFor();
  step(`the endpoint failed: 3 attempts with 503, then a dead letter (${deadRow})`);
  await axe("subscription (dead letter)");
  await shot("subscription-dead-letter");
  // The README's picture: the top of this page, the failed attempts and the dead letter in view.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "readme.png"), clip: { x: 0, y: 0, width: 1280, height: 1200 }, fullPage: true });

  await control("heal");
  await page.getByRole("button", { name: "Redeliver dead letters" }).click();
  await page.getByTestId("redeliver-result").getByText("1 redelivered").waitFor();
  await attempt(dead, "success").first().waitFor();
  await page.getByText("No dead letters.").waitFor();
  step(`redelivered: ${dead} arrived`);

  const from = new Date(Date.now() - 10 * 60_000);
  const local = new Date(from.getTime() - from.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
  await page.getByLabel("From", { exact: true }).fill(local);
  await page.getByRole("button", { name: "Replay", exact: true }).click();
  await page.getByTestId("replay-result").getByText("3 events queued again.").waitFor();
  console.log("REPLAYED 3");
  step("a replay of the last ten minutes queued the 3 events again");

  await page.getByRole("button", { name: "Rotate the secret" }).click();
  await page.getByRole("button", { name: "Confirm rotation" }).click();
  const rotated = await page.getByTestId("secret").innerText();
  if (!/^whsec_/.test(rotated) || rotated === secret) fail(`the rotated secret reads ${JSON.stringify(rotated)}`);
  step("the secret was rotated and the new one shown");
  await page.getByRole("button", { name: "Hide the secret" }).click();
  await axe("subscription");
  await shot("subscription");

  // 7. The hand-over from `altinn-events token show --console` / scripts/console: a new tab opened
  // at the address with the token in its fragment is signed in, and the fragment is gone.
  const second = await context.newPage();
  second.setDefaultTimeout(STEP_MS);
  second.on("pageerror", (e) => fail(`page error (second tab): ${e.message}`));
  await second.goto(`${origin}${CONSOLE_PATH}#token=${encodeURIComponent(token)}`);
  await second.getByTestId("identity").getByText("Signed in as organisation ttd").waitFor();
  await second.locator(`[data-testid="subscriptions"] tr[data-subscription="${id}"]`).waitFor();
  const left = await second.evaluate(() => location.href);
  if (!left.endsWith("/events/console/#/subscriptions")) fail(`after a #token= sign-in the address is ${left}`);
  await second.close();
  step("a #token= address signed a new tab in and left no token in the address bar");

  const shownShots = shots.startsWith(process.cwd() + "/") ? relative(process.cwd(), shots) : shots;
  step(`axe checked ${axeChecked} views; screenshots in ${shownShots}`);
} catch (e) {
  fail(e.message.split("\n").slice(0, 14).join(" | "));
} finally {
  await close();
  stdin.close();
}

if (ok()) console.log("console OK");
finish(0);
