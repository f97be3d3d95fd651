// ws_client.js checks the server's WebSocket protocol with npm's ws client,
// for eiotest.RunWebSocket. It prints "ALL OK" when every check passed.
//
// Usage: node ws_client.js <ws(s) URL> <plain|deflate> <limit>
// The server echoes every message, and closes the session on "4close".
"use strict";

const WebSocket = require("ws");

const [url, flag, limitArg] = process.argv.slice(2);
const deflate = flag === "deflate";
const limit = Number(limitArg);
const STEP = 8000;

function fail(msg) {
  console.log("FAIL: " + msg);
  process.exit(1);
}

// open connects and resolves with a reader of the next messages.
function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate ? { threshold: 0 } : false, rejectUnauthorized: false });
    const queue = [];
    const waiters = [];
    let closed = null;
    ws.on("message", (data, isBinary) => {
      const m = { data: Buffer.from(data), isBinary };
      if (waiters.length) waiters.shift()(m);
      else queue.push(m);
    });
    ws.on("close", (code) => {
      closed = code;
      while (waiters.length) waiters.shift()(null);
    });
    ws.on("error", () => {});
    ws.next = () =>
      new Promise((res, rej) => {
        if (queue.length) return res(queue.shift());
        if (closed !== null) return res(null);
        const timer = setTimeout(() => rej(new Error("no message in time")), STEP);
        waiters.push((m) => {
          clearTimeout(timer);
          res(m);
        });
      });
    ws.closed = () =>
      new Promise((res, rej) => {
        if (closed !== null) return res(closed);
        const timer = setTimeout(() => rej(new Error("not closed in time")), STEP);
        ws.once("close", (code) => {
          clearTimeout(timer);
          res(code);
        });
      });
    ws.on("open", async () => {
      const ext = ws.extensions;
      if (deflate !== ext.includes("permessage-deflate")) reject(new Error(`extensions ${JSON.stringify(ext)}`));
      const o = await ws.next();
      if (!o || !o.data.toString().startsWith("0{")) reject(new Error("no open packet"));
      resolve(ws);
    });
    ws.on("unexpected-response", (_, res) => reject(new Error("status " + res.statusCode)));
  });
}

async function expectEcho(ws, data, isBinary) {
  const m = await ws.next();
  if (!m || m.isBinary !== isBinary || !m.data.equals(data)) fail(`echo of ${data.length} bytes: got ${m ? m.data.length : "close"}`);
}

async function expectClose(ws, code, what) {
  const got = await ws.closed();
  if (got !== code) fail(`${what}: close ${got}, want ${code}`);
}

async function main() {
  let ws = await open();
  for (const n of [125, 126, 65535, 65536]) {
    const text = Buffer.from("4" + "x".repeat(n - 1));
    ws.send(text, { binary: false });
    await expectEcho(ws, text, false);
    const bin = Buffer.alloc(n, 0xfe);
    ws.send(bin, { binary: true });
    await expectEcho(ws, bin, true);
  }
  // Fragments with pings between them; the pongs come back.
  let pongs = 0;
  ws.on("pong", () => pongs++);
  ws.send("4" + "f".repeat(999), { fin: false });
  ws.ping("a");
  ws.send("f".repeat(1000), { fin: false });
  ws.ping("b");
  ws.send("f".repeat(1000), { fin: true });
  await expectEcho(ws, Buffer.from("4" + "f".repeat(2999)), false);
  for (let i = 0; i < 50 && pongs < 2; i++) await new Promise((r) => setTimeout(r, 20));
  if (pongs !== 2) fail(`${pongs} pongs for 2 pings`);
  // The server closes the session: 1000.
  ws.send("4close");
  await expectClose(ws, 1000, "server close");

  // A client close is answered with its code.
  ws = await open();
  let answered = null;
  ws.once("close", (code) => (answered = code));
  ws.close(4001, "bye");
  await ws.closed();
  // ws reports the code of the frame it received.
  if (answered !== 4001) fail(`client close answered with ${answered}`);

  // Invalid UTF-8 in a text message: 1007.
  ws = await open();
  ws.send(Buffer.from([0x34, 0xff, 0xfe]), { binary: false });
  await expectClose(ws, 1007, "invalid UTF-8");

  // A reserved opcode: 1002.
  ws = await open();
  ws._socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
  await expectClose(ws, 1002, "reserved opcode");

  // A ping flood: 1008.
  ws = await open();
  for (let i = 0; i < 300; i++) ws.ping();
  await expectClose(ws, 1008, "ping flood");

  // Too big: 1009 (with deflate on, a small compressed frame).
  ws = await open();
  ws.send("4" + "z".repeat(limit), { binary: false });
  await expectClose(ws, 1009, "too big");

  console.log("ALL OK");
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
