// The official Node server implementing siobench's contract (see the doc
// comment of bench/main.go).
const { Server } = require("socket.io");
const port = Number(process.argv[2] || 4000);
const io = new Server(port, { cors: { origin: "*" } });
io.on("connection", (socket) => {
  const echo = (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  };
  socket.on("echo", echo);
  socket.on("echoany", echo);
  socket.on("bcast", (...args) => io.emit("bcast", ...args));
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(room);
  });
  socket.on("rbcast", (room, ...args) => io.to(room).emit("rbcast", ...args));
});
console.log("node socket.io bench server on", port);
