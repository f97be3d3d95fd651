// A Socket.IO server built with the official Node.js "socket.io" package,
// for the Go client's interoperability tests (client_interop_test.go).
//
// Usage: node client_node_server.js PORT [recovery]
//
// It listens on 127.0.0.1:PORT (0 picks a free port) and prints
// "LISTENING <port>" once ready. With "recovery" it enables connection state
// recovery. Namespace "/" requires auth {token: "secret"}; "/admin" does not.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 0);
const recovery = process.argv[3] === "recovery";

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: 1000,
  pingTimeout: 2000,
  connectionStateRecovery: recovery ? { maxDisconnectionDuration: 60000 } : undefined,
});

const sample = () => [
  "héllo", 42, 1.5, true, null, { k: [1, "x"] },
  Buffer.from([0, 1, 2, 255]), { bin: Buffer.from([9, 8]), n: 1 },
];

io.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  if (auth.token !== "secret") {
    const err = new Error("unauthorized");
    err.data = { reason: "bad token" };
    return next(err);
  }
  next();
});

io.on("connection", (socket) => {
  if (!recovery) socket.emit("welcome", ...sample());
  socket.on("echo", (...args) => {
    const cb = args.pop();
    if (typeof cb === "function") cb(...args);
  });
  socket.on("echo-back", (...args) => socket.emit("echoed", ...args));
  socket.on("ask", async (n) => {
    try {
      const r = await socket.timeout(5000).emitWithAck("double", n);
      socket.emit("answer", r, "ok");
    } catch (e) {
      socket.emit("answer", -1, String(e));
    }
  });
  socket.on("poke", () => socket.emit("unhandled", "x", 1));
  socket.on("join", (room, cb) => { socket.join(room); cb("ok"); });
  socket.on("to-room", (room, msg) => io.to(room).emit("room-msg", msg));
  socket.on("shout", (msg) => io.emit("news", msg));
  socket.on("whoami", (cb) => cb("/ " + socket.id));
  socket.on("kick", () => socket.disconnect(true));
  // Never acknowledges: the client's ack stays pending. "holding" tells the
  // client the event arrived.
  socket.on("hold", () => socket.emit("holding"));
  // Closes the transport (an accidental disconnect for the client), then
  // broadcasts while the client is away.
  socket.on("drop", (msg) => {
    socket.conn.close();
    setTimeout(() => io.emit("news", msg), 30);
  });
});

io.of("/admin").on("connection", (socket) => {
  socket.on("whoami", (cb) => cb("/admin " + socket.id));
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log("LISTENING " + httpServer.address().port);
});
