// browser.js drives two headless Chromium pages through the chat page served
// at BASE_URL: both join one room under nicknames, exchange messages, B sees
// A's typing notice, A reloads and joins again, messages flow again and A
// sees B typing. It writes a screenshot of page A to SCREENSHOT.
//
//   node browser.js BASE_URL SCREENSHOT
//
// Every step prints one JSON line on stdout: {"step","ok","ms"} on success,
// {"step","ok":false,"error"} on failure (then the script exits 1). Page
// errors, console errors and the WebSocket URLs a page opens are printed as
// {"event",...} lines. chat_browser_test.go runs it with NODE_PATH pointing at
// the repository's node_modules, where npm's playwright-core lives.
"use strict";

const fs = require("fs");
const { chromium } = require("playwright-core");

const [base, shot] = process.argv.slice(2);
if (!base || !shot) {
  console.error("usage: node browser.js BASE_URL SCREENSHOT");
  process.exit(2);
}

const STEP_TIMEOUT = 8000; // ms for any one wait
const room = "room-" + process.pid;
const started = Date.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// step runs fn under a name and prints its outcome; a failure ends the run.
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    out({ step: name, ok: true, ms: Date.now() - t0, ...(detail ? { detail } : {}) });
  } catch (err) {
    out({ step: name, ok: false, ms: Date.now() - t0, error: String((err && err.message) || err).split("\n")[0] });
    throw err;
  }
}

// watch reports what a page does beside the steps.
function watch(page, who) {
  page.on("pageerror", (err) => out({ event: "pageerror", page: who, error: String(err.message || err) }));
  page.on("console", (msg) => {
    if (msg.type() === "error") out({ event: "console", page: who, text: msg.text() });
  });
  page.on("websocket", (ws) => out({ event: "websocket", page: who, url: ws.url() }));
  page.on("response", (res) => {
    if (res.status() >= 400) out({ event: "http", page: who, status: res.status(), url: res.url() });
  });
}

const lines = (page) => page.locator("#messages li");
// sees waits until page shows a chat line from nick containing text.
const sees = (page, nick, text) =>
  lines(page)
    .filter({ has: page.locator(".nick", { hasText: nick }), hasText: text })
    .first()
    .waitFor({ timeout: STEP_TIMEOUT });
// notice waits until page shows a system line with exactly text.
const notice = (page, text) =>
  page.locator("#messages li.system", { hasText: text }).last().waitFor({ timeout: STEP_TIMEOUT });

async function open(page) {
  const res = await page.goto(base + "/", { timeout: STEP_TIMEOUT, waitUntil: "load" });
  if (!res || res.status() !== 200) throw new Error("GET / answered " + (res && res.status()));
  await page.waitForFunction(() => document.getElementById("status").textContent === "online", null, {
    timeout: STEP_TIMEOUT,
  });
}

async function join(page, nick) {
  await page.fill("#nick", nick);
  await page.fill("#room", room);
  await page.click("#join");
  await page.waitForFunction((t) => document.title === t, "siokit chat: " + room, { timeout: STEP_TIMEOUT });
  if (await page.isDisabled("#message")) throw new Error("the message box is still disabled after joining");
  await notice(page, nick + " joined");
}

async function send(page, text) {
  await page.fill("#message", text);
  await page.press("#message", "Enter");
}

async function main() {
  let browser;
  try {
    await step("launch", async () => {
      // Playwright starts Chromium with a new empty --user-data-dir of its own
      // and removes it on close.
      browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        headless: true,
        timeout: 15000,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      return browser.version();
    });
    // One context per user: separate windows, so neither page is a
    // background tab (whose animation frames Chromium pauses), and separate
    // storage, as two people on two machines.
    const page = async () => {
      const ctx = await browser.newContext({ viewport: { width: 800, height: 640 } });
      ctx.setDefaultTimeout(STEP_TIMEOUT);
      return ctx.newPage();
    };
    const a = await page();
    const b = await page();
    watch(a, "A");
    watch(b, "B");

    await step("A open", () => open(a));
    await step("B open", () => open(b));
    await step("A join", () => join(a, "alice"));
    await step("B join", () => join(b, "bob"));
    await step("A sees bob joined", () => notice(a, "bob joined"));

    await step("B sees A typing", async () => {
      await a.fill("#message", "hello from alice");
      await b.locator("#typing", { hasText: "alice is typing" }).waitFor({ timeout: STEP_TIMEOUT });
    });
    await step("A sends", () => a.press("#message", "Enter"));
    await step("B sees A's message", () => sees(b, "alice", "hello from alice"));
    await step("A sees own message", () => sees(a, "alice", "hello from alice"));
    await step("B sends", () => send(b, "hi alice, bob here"));
    await step("A sees B's message", () => sees(a, "bob", "hi alice, bob here"));

    await step("A reload", async () => {
      await a.reload({ timeout: STEP_TIMEOUT, waitUntil: "load" });
      await a.waitForFunction(() => document.getElementById("status").textContent === "online", null, {
        timeout: STEP_TIMEOUT,
      });
      if ((await lines(a).count()) !== 0) throw new Error("the reloaded page still shows old messages");
      if (!(await a.isDisabled("#message"))) throw new Error("the reloaded page may send before joining");
    });
    await step("B sees alice left", () => notice(b, "alice left"));
    await step("A rejoin", () => join(a, "alice"));
    await step("B sees alice joined again", () => notice(b, "alice joined"));
    await step("A sends after reload", () => send(a, "back again"));
    await step("B sees A's message after reload", () => sees(b, "alice", "back again"));
    await step("B sends after reload", () => send(b, "welcome back"));
    await step("A sees B's message after reload", () => sees(a, "bob", "welcome back"));

    await step("A sees B typing", async () => {
      await b.fill("#message", "still there?");
      await a.locator("#typing", { hasText: "bob is typing" }).waitFor({ timeout: STEP_TIMEOUT });
    });
    await step("screenshot", async () => {
      await a.screenshot({ path: shot, fullPage: true, timeout: STEP_TIMEOUT });
      return { path: shot, bytes: fs.statSync(shot).size };
    });
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  out({ step: "done", ok: true, ms: Date.now() - started });
}

main().then(
  () => process.exit(0),
  () => process.exit(1),
);
