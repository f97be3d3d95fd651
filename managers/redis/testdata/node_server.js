// A Node socket.io server on @socket.io/redis-adapter, for the mixed
// cluster test. Usage: node node_server.js <redis url> <key>
// It listens on a free port and prints "listening <port>" once its adapter
// is subscribed. Clients may emit:
//   "join" room (ack)             join a room
//   "broadcast" event arg (ack)   io.emit(event, arg)
//   "to" room event arg (ack)     io.to(room).emit(event, arg)
//   "fetch" (ack)                 ack with the ids of every socket of the cluster
//   "sse" (ack)                   io.serverSideEmitWithAck("whoami"), ack with the answers
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

async function main() {
  const [url, key] = process.argv.slice(2);
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on("error", (e) => console.error("pub", e.message));
  sub.on("error", (e) => console.error("sub", e.message));
  await Promise.all([pub.connect(), sub.connect()]);
  const io = new Server({ adapter: createAdapter(pub, sub, { key, requestsTimeout: 3000 }) });
  io.on("connection", (socket) => {
    socket.on("join", (room, ack) => { socket.join(room); ack(true); });
    socket.on("broadcast", (event, arg, ack) => { io.emit(event, arg); ack(true); });
    socket.on("to", (room, event, arg, ack) => { io.to(room).emit(event, arg); ack(true); });
    socket.on("fetch", async (ack) => {
      const socks = await io.fetchSockets();
      ack(socks.map((s) => s.id).sort());
    });
    socket.on("sse", async (ack) => {
      try { ack(await io.serverSideEmitWithAck("whoami")); }
      catch (e) { ack({ error: String(e) }); }
    });
  });
  io.on("whoami", (cb) => cb("node"));
  io.of("/").adapter.on("error", () => {});
  const httpServer = require("http").createServer();
  io.attach(httpServer);
  // Give the adapter's SUBSCRIBE commands time to be confirmed.
  await pub.ping(); await sub.ping?.().catch(() => {});
  httpServer.listen(0, "127.0.0.1", () => {
    console.log("listening " + httpServer.address().port);
  });
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
main().catch((e) => { console.error(e); process.exit(1); });
