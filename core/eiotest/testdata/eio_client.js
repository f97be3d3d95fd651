// eio_client.js drives the official engine.io-client against a siokit echo
// server for eiotest.RunClientInterop.
//
// Usage: node eio_client.js <base URL> <polling|websocket|upgrade> <client|server>
//
// The server greets with "welcome" and a binary [de ad be ef], echoes every
// message, and closes the session when it receives "close me". The script
// checks the greeting and the echoes (text, ArrayBuffer and Buffer), then
// closes from the side named by the last argument, and prints one line
// "RESULT {json}" with the session id, the transport and the close reason.
"use strict";

const { Socket } = require("engine.io-client");

const [url, mode, closer] = process.argv.slice(2);
const transports = { polling: ["polling"], websocket: ["websocket"], upgrade: ["polling", "websocket"] }[mode];
if (!url || !transports || !["client", "server"].includes(closer)) {
  console.error("usage: eio_client.js <url> <polling|websocket|upgrade> <client|server>");
  process.exit(2);
}

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}
const timer = setTimeout(() => fail("timed out; received so far: " + JSON.stringify(received)), 10000);

const expected = [
  "welcome",
  [0xde, 0xad, 0xbe, 0xef],
  "hello",
  [1, 2, 3, 255],
  [0, 0, 7],
  "ünïcode ☃ \u2028",
  "",
];
const received = [];
let exchanged = false;
let sid = "";
let transportName = "";

const socket = new Socket(url, {
  path: "/engine.io/",
  transports,
  upgrade: mode === "upgrade",
  rememberUpgrade: false,
});

function exchange() {
  socket.send("hello");
  socket.send(Uint8Array.from([1, 2, 3, 255]).buffer); // ArrayBuffer
  socket.send(Buffer.from([0, 0, 7])); // Buffer
  socket.send("ünïcode ☃ \u2028");
  socket.send("");
}

socket.on("open", () => {
  sid = socket.id;
  if (mode !== "upgrade") exchange();
});

socket.on("upgrade", (transport) => {
  if (mode !== "upgrade") fail("unexpected upgrade to " + transport.name);
  exchange();
});

socket.on("message", (data) => {
  // engine.io-parser hands an empty message ("4") over as undefined.
  if (data === undefined) data = "";
  received.push(typeof data === "string" ? data : Array.from(new Uint8Array(data)));
  if (received.length < expected.length) return;
  if (JSON.stringify(received) !== JSON.stringify(expected)) {
    fail("received " + JSON.stringify(received) + ", want " + JSON.stringify(expected));
  }
  const want = mode === "polling" ? "polling" : "websocket";
  if (socket.transport.name !== want) fail("transport " + socket.transport.name + ", want " + want);
  exchanged = true;
  transportName = socket.transport.name;
  if (closer === "client") socket.close();
  else socket.send("close me");
});

socket.on("error", (err) => fail("error: " + err));

socket.on("close", (reason, description) => {
  if (!exchanged) fail("closed before the exchange finished: " + reason + " " + (description || ""));
  const want = closer === "client" ? "forced close" : "transport close";
  if (reason !== want) fail("close reason " + JSON.stringify(reason) + ", want " + JSON.stringify(want));
  clearTimeout(timer);
  console.log("RESULT " + JSON.stringify({ sid, transport: transportName, reason }));
});
