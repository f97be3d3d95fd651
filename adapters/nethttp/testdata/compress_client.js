// compress_client.js checks that Node clients read siokit's compressed
// long-polling responses. Usage: node compress_client.js <base URL>
// It prints one JSON line per check: {"check", "ok", "error", "len"}.
//
// - socket.io-client over polling with engine.io-client's Fetch transport
//   (Node's fetch sends Accept-Encoding and decompresses);
// - socket.io-client over polling with its default Node transport (the
//   xmlhttprequest-ssl package, which forbids setting Accept-Encoding, so the
//   server must answer it uncompressed);
// - a raw Node http request that asks for gzip and inflates with zlib.
const http = require("http");
const zlib = require("zlib");
const { io } = require("socket.io-client");
const { Fetch } = require("engine.io-client");

const base = process.argv[2];
const BIG = 30000;

function report(check, ok, error, len) {
  process.stdout.write(JSON.stringify({ check, ok, error: error || null, len: len || 0 }) + "\n");
}

function sioRun(check, opts) {
  return new Promise((resolve) => {
    const socket = io(base, { reconnection: false, timeout: 8000, ...opts });
    const timer = setTimeout(() => { report(check, false, "timeout"); socket.close(); resolve(); }, 10000);
    socket.on("connect_error", (err) => { clearTimeout(timer); report(check, false, String(err)); resolve(); });
    socket.on("welcome", (text) => {
      socket.timeout(8000).emit("big", BIG, (err, reply) => {
        clearTimeout(timer);
        const ok = !err && typeof reply === "string" && reply.length === BIG && text.length === BIG;
        report(check, ok, err ? String(err) : (ok ? null : `welcome ${text.length}, reply ${reply && reply.length}`), reply && reply.length);
        socket.close();
        resolve();
      });
    });
  });
}

function get(path, headers) {
  return new Promise((resolve, reject) => {
    http.get(base + path, { headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

function post(path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method: "POST", headers: { "Content-Type": "text/plain" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function rawRun() {
  const check = "raw node http gzip";
  try {
    const hs = await get("/socket.io/?EIO=4&transport=polling", {});
    const sid = JSON.parse(hs.body.toString().slice(1)).sid;
    const q = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    if ((await post(q, "40")) !== 200) throw new Error("CONNECT post refused");
    let payload = "";
    let encodings = [];
    for (let i = 0; i < 5 && !payload.includes("welcome"); i++) {
      const { res, body } = await get(q, { "Accept-Encoding": "gzip" });
      const enc = res.headers["content-encoding"] || "";
      encodings.push(enc);
      payload += enc === "gzip" ? zlib.gunzipSync(body).toString() : body.toString();
    }
    const ok = payload.includes("welcome") && encodings.includes("gzip");
    report(check, ok, ok ? null : `encodings ${encodings}, ${payload.length} bytes`, payload.length);
    await post(q, "1");
  } catch (e) {
    report(check, false, String(e));
  }
}

(async () => {
  await sioRun("socket.io-client fetch polling", { transports: [Fetch] });
  await sioRun("socket.io-client xhr polling", { transports: ["polling"] });
  await rawRun();
  process.exit(0);
})();
