// The official Node.js socket.io server with socket.io-msgpack-parser, for
// the Go client's msgpack interop test. It serves the same events as the
// Go server of siomsgpack's tests.
//
// Usage: node server.js   (prints "LISTENING <port>" once ready)
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const parser = require("socket.io-msgpack-parser");

const httpServer = http.createServer();
const io = new Server(httpServer, { parser, pingInterval: 1000, pingTimeout: 2000 });

const sample = () => [
  "héllo", 42, 1.5, true, null, { k: [1, "x"] },
  Buffer.from([0, 1, 2, 255]), { bin: Buffer.from([9, 8]), n: 1 },
];

io.use((socket, next) => {
  if ((socket.handshake.auth || {}).token !== "secret") return next(new Error("unauthorized"));
  next();
});

io.on("connection", (socket) => {
  socket.emit("welcome", ...sample());
  socket.on("echo", (...args) => {
    const cb = args.pop();
    if (typeof cb === "function") cb(...args);
  });
  socket.on("ask", async (n) => {
    try {
      socket.emit("answer", await socket.timeout(5000).emitWithAck("double", n));
    } catch (e) {
      socket.emit("answer", String(e));
    }
  });
  socket.on("shout", (...args) => io.emit("news", ...args));
});

io.of("/chat").on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const cb = args.pop();
    if (typeof cb === "function") cb(...args);
  });
});

httpServer.listen(0, "127.0.0.1", () => {
  console.log("LISTENING " + httpServer.address().port);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
