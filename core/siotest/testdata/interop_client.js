// interop_client.js drives the official socket.io-client against the siokit
// servers of siotest.RunInterop and prints one JSON line per check:
// {"check": name, "ok": bool, "error": text, "ms": duration}.
//
// Usage: node interop_client.js <main URL> <proxy URL> <recovery URL> <polling|websocket|upgrade>
//
// The main server's handlers are described in interop.go (iopSetupMain);
// the proxy forwards to the main server and drops every connection on the
// "cutMe" event; the recovery server has connection state recovery on.
"use strict";

const { io, Manager } = require("socket.io-client");

const [base, proxy, recBase, mode] = process.argv.slice(2);
const transportOpts = {
  polling: { transports: ["polling"], upgrade: false },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"], upgrade: true, rememberUpgrade: false },
}[mode];
if (!base || !proxy || !recBase || !transportOpts) {
  console.error("usage: interop_client.js <main URL> <proxy URL> <recovery URL> <polling|websocket|upgrade>");
  process.exit(2);
}

const AUTH = { token: "s3cret" };
const STEP = 8000; // bound of every wait
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };

function report(check, ok, error, ms) {
  process.stdout.write(JSON.stringify({ check, ok, error, ms }) + "\n");
}

// Every socket and manager made, closed at the end.
const sockets = [];
const managers = [];

function open(url, nsp, extra = {}) {
  const s = io(url + nsp, { forceNew: true, reconnection: false, auth: AUTH, timeout: STEP, ...transportOpts, ...extra });
  sockets.push(s);
  return s;
}

function manager(url) {
  const m = new Manager(url, { reconnection: false, timeout: STEP, ...transportOpts });
  managers.push(m);
  return m;
}

// canon renders a value as JSON with sorted keys and binary as {"$bin": hex},
// so that values compare exactly, binary included.
function canon(v) {
  return JSON.stringify(norm(v));
}
function norm(v) {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v !== "object") return v;
  if (Buffer.isBuffer(v)) return { $bin: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(norm);
  const out = {};
  for (const k of Object.keys(v).sort()) out[k] = norm(v[k]);
  return out;
}
function same(got, want, what) {
  const g = canon(got);
  const w = canon(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}
function assert(cond, what) {
  if (!cond) throw new Error(what);
}

function timeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// once waits for the next event ev whose arguments satisfy pred.
function once(s, ev, pred = () => true, ms = STEP) {
  return new Promise((resolve, reject) => {
    const h = (...args) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      s.off(ev, h);
      resolve(args);
    };
    const timer = setTimeout(() => {
      s.off(ev, h);
      reject(new Error(`no "${ev}" event within ${ms} ms`));
    }, ms);
    s.on(ev, h);
  });
}

function connected(s) {
  if (s.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${s.nsp}: not connected within ${STEP} ms`)), STEP);
    const onConnect = () => done();
    const onError = (err) => done(new Error(`${s.nsp}: connect_error ${err.message} ${canon(err.data)}`));
    function done(err) {
      clearTimeout(timer);
      s.off("connect", onConnect);
      s.off("connect_error", onError);
      err ? reject(err) : resolve();
    }
    s.on("connect", onConnect);
    s.on("connect_error", onError);
  });
}

function refused(s) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${s.nsp}: no connect_error within ${STEP} ms`)), STEP);
    s.once("connect", () => {
      clearTimeout(timer);
      reject(new Error(`${s.nsp}: connected, want a refusal`));
    });
    s.once("connect_error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

// ack emits with an acknowledgement and resolves with all its values.
function ack(s, ev, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(STEP).emit(ev, ...args, (err, ...vals) => {
      err ? reject(new Error(`no ack for "${ev}" within ${STEP} ms`)) : resolve(vals);
    });
  });
}

async function until(cond, what) {
  const end = Date.now() + STEP;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${STEP} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// record keeps every event a socket receives.
function record(s) {
  const log = [];
  s.onAny((ev, ...args) => log.push([ev, ...args]));
  return log;
}
function got(log, ev, token) {
  return log.filter(([e, t]) => e === ev && t === token).length;
}

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await timeout(Promise.resolve().then(fn), 3 * STEP, name);
    report(name, true, undefined, Date.now() - t0);
  } catch (e) {
    report(name, false, String((e && e.message) || e), Date.now() - t0);
  }
}

const bin = (...bytes) => Buffer.from(bytes);

const echoes = [
  ["string", "hello"],
  ["string-unicode", "ünïcødé ☃ 😀 \u2028 \"quoted\" \\ </script>"],
  ["string-empty", ""],
  ["int", 42],
  ["float", 3.25],
  ["negative", -17.5],
  ["max-safe-int", Number.MAX_SAFE_INTEGER],
  ["true", true],
  ["false", false],
  ["null", null],
  ["array", [1, "two", false, null, [3]]],
  ["object", { a: 1, b: "x", c: null, d: [true], e: {} }],
  ["nested", { list: [{ deep: { deeper: [1, [2, [3]]] } }], empty: [] }],
  ["binary", bin(0xde, 0xad, 0xbe, 0xef)],
  ["binary-empty", bin()],
  ["binary-in-object", { name: "file", data: bin(1, 2, 3) }],
  ["binary-in-array", ["before", bin(0, 255), "after"]],
  ["binary-deep", { a: [{ b: { c: [null, bin(7, 7, 7)] } }] }],
  ["binary-several", { x: bin(1), y: [bin(2), { z: bin(3, 3) }], w: bin(4, 4, 4, 4) }],
];

async function main() {
  let s; // the main socket

  await check("auth/accepted", async () => {
    s = open(base, "/");
    await connected(s);
    assert(typeof s.id === "string" && s.id.length > 0, "no socket id");
  });

  await check("auth/refused-with-data", async () => {
    const r = open(base, "/", { auth: { token: "wrong" } });
    const err = await refused(r);
    same({ message: err.message, data: err.data }, { message: "not authorized", data: { code: 4001, reason: "bad token" } }, "connect_error");
  });

  await check("auth/refused-one-namespace", async () => {
    const m = manager(base);
    const ok = m.socket("/", { auth: AUTH });
    const no = m.socket("/admin", { auth: { token: "nope" } });
    const refusal = refused(no); // listen before anything else is awaited
    await connected(ok);
    const err = await refusal;
    same({ message: err.message, data: err.data }, { message: "not authorized", data: { code: 4001, reason: "bad token" } }, "/admin connect_error");
    const [who] = await ack(ok, "whoami");
    same(who.nsp, "/", "the sibling namespace still answers");
  });

  await check("namespaces/multiplexed", async () => {
    const m = manager(base);
    const names = ["/", "/admin", "/dyn-42"];
    const ss = names.map((n) => m.socket(n, { auth: AUTH }));
    await Promise.all(ss.map(connected));
    for (const [i, x] of ss.entries()) {
      const [who] = await ack(x, "whoami");
      same({ nsp: who.nsp, sid: who.sid, eio: who.eio }, { nsp: names[i], sid: x.id, eio: m.engine.id }, `whoami on ${names[i]}`);
    }
  });

  await check("namespaces/invalid", async () => {
    const m = manager(base);
    const ok = m.socket("/", { auth: AUTH });
    const bad = m.socket("/nope", { auth: AUTH });
    const err = await refused(bad);
    same(err.message, "Invalid namespace", "connect_error message");
    await connected(ok);
    const [who] = await ack(ok, "whoami");
    same(who.eio, m.engine.id, "the connection stays open for the others");
  });

  await check("transport/selected", async () => {
    const want = mode === "polling" ? "polling" : "websocket";
    await until(() => s.io.engine && s.io.engine.transport.name === want, `transport ${want}`);
  });

  for (const [name, value] of echoes) {
    await check("echo/" + name, async () => {
      const vals = await ack(s, "echo", value);
      same(vals, [value], "ack");
    });
  }

  await check("emit/every-type", async () => {
    const args = echoes.map(([, v]) => v);
    const p = once(s, "echoed");
    s.emit("echoEmit", ...args);
    same(await p, args, "echoed arguments");
  });

  await check("ack/multiple-values", async () => {
    same(await ack(s, "sum", 2, 3.5), [5.5, "sum"], "ack");
  });

  await check("ack/server-to-client", async () => {
    let asked;
    s.on("question", (...args) => {
      const cb = args.pop();
      asked = args;
      cb(args[1] + 1, "reply", bin(9, 8), { nested: [bin(7)] });
    });
    const vals = await ack(s, "askMe");
    same(asked, ["q", 41, bin(1, 2, 3)], "the client's handler got");
    same(vals, [42, "reply", bin(9, 8), { nested: [bin(7)] }], "the server got");
  });

  await check("broadcast/ack-all", async () => {
    const ps = [1, 2, 3].map(() => open(base, "/"));
    await Promise.all(ps.map(connected));
    ps.forEach((p, i) => p.on("poll", (q, cb) => cb("fine-" + i, q)));
    await Promise.all(ps.map((p) => ack(p, "join", "pollers")));
    const [res] = await ack(s, "pollRoom", "pollers", STEP / 2);
    const want = ps
      .map((p, i) => ({ sid: p.id, values: ["fine-" + i, "how are you"] }))
      .sort((a, b) => (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0));
    same(res, { answers: want, timedOut: false }, "pollRoom");
  });

  await check("broadcast/ack-timeout", async () => {
    const [a, b] = [open(base, "/"), open(base, "/")];
    await Promise.all([connected(a), connected(b)]);
    a.on("poll", (q, cb) => cb("here"));
    b.on("poll", () => {}); // never answers
    await Promise.all([ack(a, "join", "half"), ack(b, "join", "half")]);
    const [res] = await ack(s, "pollRoom", "half", 300);
    same(res, { answers: [{ sid: a.id, values: ["here"] }], timedOut: true }, "pollRoom");
  });

  let a, b, c, la, lb, lc;
  const fence = (token) => Promise.all([a, b, c].map((x) => once(x, "fence", (t) => t === token)));
  await check("rooms/members-only", async () => {
    [a, b, c] = [open(base, "/"), open(base, "/"), open(base, "/")];
    [la, lb, lc] = [a, b, c].map(record);
    await Promise.all([a, b, c].map(connected));
    await Promise.all([ack(a, "join", "r1"), ack(b, "join", "r1")]);
    const f = fence("t1");
    c.emit("toRoom", "r1", "t1");
    await f;
    same([got(la, "roomMsg", "t1"), got(lb, "roomMsg", "t1"), got(lc, "roomMsg", "t1")], [1, 1, 0], "roomMsg received by a, b, c");
  });

  await check("rooms/to-except-sender", async () => {
    const f = fence("t2");
    a.emit("toRoomExceptMe", "r1", "t2");
    await f;
    same([got(la, "roomMsg", "t2"), got(lb, "roomMsg", "t2"), got(lc, "roomMsg", "t2")], [0, 1, 0], "roomMsg received by a, b, c");
  });

  await check("broadcast/except-sender", async () => {
    const f = fence("t3");
    a.emit("shout", "t3");
    await f;
    same([got(la, "shouted", "t3"), got(lb, "shouted", "t3"), got(lc, "shouted", "t3")], [0, 1, 1], "shouted received by a, b, c");
  });

  await check("catchall/unknown-event", async () => {
    const vals = await ack(s, "noSuchEvent", 1, "two", { three: bin(3) });
    same(vals, ["caught", "noSuchEvent", [1, "two", { three: bin(3) }]], "ack");
  });

  await check("catchall/not-for-handled", async () => {
    const [events] = await ack(s, "caughtEvents");
    same(events, ["noSuchEvent"], "events the catch-all saw");
  });

  await check("disconnect/server", async () => {
    const k = open(base, "/", RECONNECT);
    await connected(k);
    const p = once(k, "disconnect");
    k.emit("kickMe");
    const [reason] = await p;
    same(reason, "io server disconnect", "disconnect reason");
    await new Promise((r) => setTimeout(r, 300)); // longer than the reconnection delay
    assert(!k.connected && !k.active, "the client reconnected after a server disconnect");
  });

  await check("disconnect/server-close", async () => {
    // Disconnect(true) on one namespace closes the connection: every
    // namespace of it is told, as the official server does, so none reconnects.
    const m = new Manager(base, { ...transportOpts, ...RECONNECT, timeout: STEP });
    managers.push(m);
    const [k1, k2] = [m.socket("/", { auth: AUTH }), m.socket("/admin", { auth: AUTH })];
    await Promise.all([connected(k1), connected(k2)]);
    const p = Promise.all([once(k1, "disconnect"), once(k2, "disconnect")]);
    k1.emit("kickAll");
    const reasons = (await p).map(([reason]) => reason);
    same(reasons, ["io server disconnect", "io server disconnect"], "disconnect reasons of / and /admin");
    await new Promise((r) => setTimeout(r, 300)); // longer than the reconnection delay
    assert(!k1.connected && !k2.connected && !k1.active && !k2.active, "a namespace reconnected after the server closed the connection");
  });

  await check("reconnect/engine-closed", async () => {
    const r = open(base, "/", RECONNECT);
    await connected(r);
    const [before] = await ack(r, "whoami");
    const p = once(r, "disconnect");
    r.emit("dropMe");
    const [reason] = await p;
    same(reason, "transport close", "disconnect reason");
    await once(r, "connect");
    const [after] = await ack(r, "whoami");
    assert(after.eio !== before.eio && after.sid === r.id && r.id !== before.sid, `not a new connection: ${canon([before, after])}`);
  });

  await check("reconnect/transport-lost", async () => {
    const r = open(proxy, "/", RECONNECT);
    await connected(r);
    const [before] = await ack(r, "whoami");
    const p = once(r, "disconnect");
    r.emit("cutMe");
    const [reason] = await p;
    assert(reason === "transport close" || reason === "transport error", `disconnect reason ${reason}`);
    await once(r, "connect");
    const [after] = await ack(r, "whoami");
    assert(after.eio !== before.eio && after.sid === r.id, `not a new connection: ${canon([before, after])}`);
  });

  await check("reconnect/dropped", async () => {
    const r = open(base, "/", RECONNECT);
    await connected(r);
    const [before] = await ack(r, "whoami");
    const p = once(r, "disconnect");
    r.emit("dropSelf");
    const [reason] = await p;
    assert(reason === "transport close" || reason === "transport error", `disconnect reason ${reason}`);
    await once(r, "connect");
    const [after] = await ack(r, "whoami");
    assert(after.eio !== before.eio && after.sid === r.id && r.id !== before.sid, `not a new connection: ${canon([before, after])}`);
  });

  let rs, rid;
  const ticks = [];
  await check("recovery/recovered", async () => {
    rs = open(recBase, "/", { ...RECONNECT, reconnectionDelay: 300, reconnectionDelayMax: 300 });
    rs.on("tick", (n) => ticks.push(n));
    await connected(rs);
    assert(!rs.recovered, "a first connection claims to be recovered");
    rid = rs.id;
    await ack(rs, "ready");
    await until(() => ticks.length === 1, "tick 1");
    const p = once(rs, "disconnect");
    rs.io.engine.close();
    await p;
    await once(rs, "connect");
    assert(rs.recovered === true, "socket.recovered is false");
    same(rs.id, rid, "socket id after recovery");
  });

  await check("recovery/missed-once-in-order", async () => {
    await ack(rs, "report"); // comes after the replayed packets
    same(ticks, [1, 2, 3], "ticks received");
  });

  await check("recovery/server-state", async () => {
    const [rep] = await ack(rs, "report");
    same(rep, { recovered: true, sentWhileAbsent: true, nick: "probe", inRoom: true }, "report");
  });
}

const deadline = setTimeout(() => {
  console.error("interop_client.js: overall deadline passed");
  process.exit(3);
}, 45000);

main()
  .catch((e) => {
    console.error("interop_client.js:", e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const x of sockets) x.disconnect();
    for (const m of managers) m._close();
    clearTimeout(deadline);
    setTimeout(() => process.exit(process.exitCode || 0), 50);
  });
