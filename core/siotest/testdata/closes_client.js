// closes_client.js drives the official socket.io-client against the siokit
// servers of siotest.RunCloses and prints one JSON line per check:
// {"check": name, "ok": bool, "error": text, "ms": duration}.
//
// Usage:
//   node closes_client.js upgrade-close <URL> <tries>
//     connects <tries> times to each of /kick and /drop over polling with
//     upgrade and has the server close each connection during its upgrade
//     (Socket.Disconnect(true) on /kick, Socket.Drop on /drop), and checks
//     that every client sees the end within a few seconds (none is left
//     waiting for its ping timeout);
//   node closes_client.js restart <URL> <polling|websocket|upgrade> <name>
//     stays connected, reconnecting by itself, and says hello (with name)
//     on every connection, until a server emits "bye".
"use strict";

const { io } = require("socket.io-client");

const [what, url, arg, name] = process.argv.slice(2);
const transportOpts = {
  polling: { transports: ["polling"], upgrade: false },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"], upgrade: true, rememberUpgrade: false },
};

function report(check, ok, error, ms) {
  process.stdout.write(JSON.stringify({ check, ok, error, ms }) + "\n");
}

// one connects once to nsp over polling with upgrade and, once the probe
// is answered and polling paused, holds back the switch to WebSocket and
// the upgrade packet until the server has closed the connection (through
// ctl): the close lands in the upgrade, as it can by chance.
// It resolves when the client sees the end: {settled, held}, held telling
// whether the close was made while the upgrade packet was held back.
function one(ctl, nsp, how, waitMs) {
  return new Promise((resolve) => {
    const s = io(url + nsp, { forceNew: true, reconnection: false, timeout: waitMs, ...transportOpts.upgrade });
    let held = false;
    let ended = false;
    s.io.on("open", () => {
      const engine = s.io.engine;
      engine.on("upgrading", () => {
        // The client now pauses polling (the pending poll returns the
        // server's noop), then switches transports and sends the upgrade
        // packet: hold that back until the server has closed.
        const polling = engine.transport;
        const pause = polling.pause.bind(polling);
        polling.pause = (onPause) =>
          pause(() => {
            held = true;
            // A moment for the close to reach the probe's WebSocket too.
            ctl.emit("close", engine.id, how, () => setTimeout(onPause, 100));
          });
      });
    });
    const done = (settled) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      s.close();
      resolve({ settled, held });
    };
    const timer = setTimeout(() => done(false), waitMs);
    s.on("disconnect", () => done(true));
    s.on("connect_error", () => done(true));
    s.io.on("close", () => done(true));
  });
}

async function upgradeClose(tries) {
  const ctl = io(url + "/ctl", { forceNew: true, transports: ["websocket"] });
  await new Promise((resolve) => ctl.on("connect", resolve));
  for (const [nsp, how] of [["/kick", "kick"], ["/drop", "drop"]]) {
    const start = Date.now();
    let hung = 0;
    let held = 0;
    let next = 0;
    const worker = async () => {
      while (next < tries) {
        next++;
        const r = await one(ctl, nsp, how, 5000);
        if (!r.settled) hung++;
        if (r.held) held++;
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    const ms = Date.now() - start;
    process.stderr.write(`${nsp}: ${tries} tries, ${held} closed during the upgrade, ${hung} hung, ${ms} ms\n`);
    let error = "";
    if (hung) error = `${hung} of ${tries} clients hung`;
    else if (held < tries) error = `only ${held} of ${tries} closes landed during the upgrade`;
    report("upgrade-close" + nsp, error === "", error, ms);
  }
  ctl.close();
}

function restart(mode) {
  const start = Date.now();
  const s = io(url, {
    reconnection: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
    ...transportOpts[mode],
  });
  s.on("connect", () => s.emit("hello", name));
  s.on("bye", () => {
    report("restart/reconnected", true, "", Date.now() - start);
    s.close();
    process.exit(0);
  });
  setTimeout(() => {
    report("restart/reconnected", false, "no bye from the restarted server", Date.now() - start);
    process.exit(1);
  }, 30000);
}

if (what === "upgrade-close") {
  upgradeClose(Number(arg)).then(() => process.exit(0));
} else if (what === "restart" && transportOpts[arg] && name) {
  restart(arg);
} else {
  console.error("usage: closes_client.js upgrade-close <URL> <tries> | restart <URL> <mode> <name>");
  process.exit(2);
}
