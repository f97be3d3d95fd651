// Opens testdata/page.html, served at URL, in headless Chromium (npm's
// playwright-core driving Debian's /usr/bin/chromium) and prints the page's
// result: "OK" or "FAIL <reason>". Exits 1 unless OK.
//
// Usage: node browser.js URL   (URL with the page's ?t=TRANSPORT query)
"use strict";

const { chromium } = require("playwright-core");

async function main() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 15000,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    page.on("pageerror", (err) => console.error("pageerror:", err.message));
    await page.goto(process.argv[2], { timeout: 10000 });
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const result = await page.evaluate(() => window.result);
    console.log(result);
    if (result !== "OK") process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.log("FAIL " + e.message); process.exit(1); });
