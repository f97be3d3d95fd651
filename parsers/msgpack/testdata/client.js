// The official socket.io-client with socket.io-msgpack-parser, against a
// server speaking the msgpack parser (siomsgpack's interop tests).
//
// Usage: node client.js URL TRANSPORT   (TRANSPORT: websocket or polling)
//
// It checks the server's welcome (every kind of value, binary included),
// acks both ways on "/" and "/chat", and a broadcast reaching two clients,
// then prints "OK". Any failure exits 1 with the reason.
"use strict";

const { io } = require("socket.io-client");
const parser = require("socket.io-msgpack-parser");
const assert = require("assert");

const [url, transport] = process.argv.slice(2);
const opts = { parser, transports: [transport], forceNew: true, reconnection: false };

const fail = (e) => { console.error("FAIL", e && e.stack || e); process.exit(1); };
setTimeout(() => fail("timeout"), 20000).unref();

const sample = () => [
  "héllo", 42, 1.5, true, null, { k: [1, "x"] },
  Buffer.from([0, 1, 2, 255]), { bin: Buffer.from([9, 8]), n: 1 },
];

function checkSample(args, what) {
  assert.strictEqual(args.length, 8, what + ": length");
  assert.deepStrictEqual(args.slice(0, 6), sample().slice(0, 6), what);
  assert.deepStrictEqual(Buffer.from(args[6]), Buffer.from([0, 1, 2, 255]), what + ": binary");
  assert.deepStrictEqual(Buffer.from(args[7].bin), Buffer.from([9, 8]), what + ": nested binary");
  assert.strictEqual(args[7].n, 1, what);
}

// ack emits and resolves with every value of the acknowledgement
// (emitWithAck resolves with the first one only).
const ack = (s, ...args) => new Promise((resolve, reject) => {
  s.timeout(5000).emit(...args, (err, ...values) => (err ? reject(err) : resolve(values)));
});

const connected = (s) => new Promise((resolve, reject) => {
  s.on("connect_error", reject);
  s.on("connect", resolve);
});

async function main() {
  const a = io(url, { ...opts, auth: { token: "secret" } });
  const welcome = new Promise((resolve) => a.on("welcome", (...args) => resolve(args)));
  a.on("double", (n, cb) => cb(n * 2));
  await connected(a);
  checkSample(await welcome, "welcome");

  checkSample(await ack(a, "echo", ...sample()), "echo ack");

  const answer = new Promise((resolve) => a.on("answer", resolve));
  a.emit("ask", 21);
  assert.strictEqual(await answer, 42, "server-side ack");

  const chat = io(url + "/chat", opts);
  await connected(chat);
  const r = await ack(chat, "echo", "in chat", Buffer.from([7]));
  assert.strictEqual(r[0], "in chat");
  assert.deepStrictEqual(Buffer.from(r[1]), Buffer.from([7]));

  const b = io(url, { ...opts, auth: { token: "secret" } });
  await connected(b);
  const got = (s) => new Promise((resolve) => s.on("news", (...args) => resolve(args)));
  const na = got(a), nb = got(b);
  a.emit("shout", "hi all", Buffer.from([5, 6]));
  for (const args of [await na, await nb]) {
    assert.strictEqual(args[0], "hi all");
    assert.deepStrictEqual(Buffer.from(args[1]), Buffer.from([5, 6]));
  }
  for (const s of [a, b, chat]) s.disconnect();
  console.log("OK");
  process.exit(0);
}

main().catch(fail);
