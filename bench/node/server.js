// The official Node server implementing siobench's contract.
const { Server } = require("socket.io");
const port = Number(process.argv[2] || 4000);
const io = new Server(port, { cors: { origin: "*" } });
io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("bcast", (...args) => io.emit("bcast", ...args));
});
console.log("node socket.io bench server on", port);
