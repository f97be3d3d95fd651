// static_browser.js loads a page served by a siokit App in headless
// Chromium and prints one JSON object: whether the page's SVG image
// rendered (its natural width), whether its ES module (.mjs) loaded, and
// what socket.io-client read over long-polling (whose large responses the
// server compresses). Usage: node static_browser.js <base URL>
const { chromium } = require("playwright-core");

(async () => {
  const out = {};
  const browser = await chromium.launch({
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
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(process.argv[2] + "/", { timeout: 15000 });
    await page.waitForFunction(() => document.getElementById("pic").complete, null, { timeout: 10000 });
    out.svgWidth = await page.evaluate(() => document.getElementById("pic").naturalWidth);
    out.moduleAnswer = await page
      .waitForFunction(() => window.moduleAnswer, null, { timeout: 10000 })
      .then((h) => h.jsonValue())
      .catch((e) => String(e));
    out.socketio = await page.evaluate(() => new Promise((resolve) => {
      const s = io({ transports: ["polling"], reconnection: false });
      const timer = setTimeout(() => resolve({ error: "timeout" }), 10000);
      s.on("connect_error", (e) => { clearTimeout(timer); resolve({ error: String(e) }); });
      s.on("welcome", (text) => {
        s.timeout(8000).emit("big", 30000, (err, reply) => {
          clearTimeout(timer);
          s.close();
          resolve({ welcome: text.length, reply: reply ? reply.length : 0, error: err ? String(err) : null });
        });
      });
    }));
    out.errors = errors;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
})().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String(e) }) + "\n");
  process.exit(1);
});
