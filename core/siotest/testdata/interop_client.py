"""interop_client.py drives python-socketio's Client against the siokit
servers of siotest.RunInterop and prints one JSON line per check:
{"check": name, "ok": bool, "error": text, "ms": duration}.

Usage: /usr/bin/python3 interop_client.py <main URL> <proxy URL> <polling|websocket|upgrade>

It is written for Debian's python3-socketio 5.7.2 (python-engineio 4.3.4):
its Client runs every handler on a thread of its own, acknowledges every
event that asks for it (a handler returning None acks with no values), and
does not reconnect after the server closes the Engine.IO session.
"""

import json
import os
import sys
import threading
import time

import socketio

base, proxy, mode = sys.argv[1:4]
TRANSPORTS = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[mode]
AUTH = {"token": "s3cret"}
STEP = 8.0  # bound of every wait, in seconds


def report(check, ok, error=None, ms=0):
    sys.stdout.write(json.dumps({"check": check, "ok": ok, "error": error, "ms": ms}) + "\n")
    sys.stdout.flush()


class Fail(Exception):
    pass


def norm(v):
    """norm makes a value comparable: binary as {"$bin": hex}, keys sorted."""
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": bytes(v).hex()}
    if isinstance(v, dict):
        return {k: norm(v[k]) for k in sorted(v)}
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    return v


def canon(v):
    return json.dumps(norm(v), sort_keys=True)


def same(got, want, what):
    g, w = canon(got), canon(want)
    if g != w:
        raise Fail("%s: got %s, want %s" % (what, g, w))


def check(name, fn):
    t0 = time.monotonic()
    try:
        fn()
    except Exception as e:  # every failure is reported, then the next check runs
        report(name, False, "%s: %s" % (type(e).__name__, e), int((time.monotonic() - t0) * 1000))
    else:
        report(name, True, None, int((time.monotonic() - t0) * 1000))


clients = []


class Peer:
    """Peer is a Client with a record of every event it receives."""

    def __init__(self, reconnect=False, namespaces=("/",)):
        self.c = socketio.Client(reconnection=reconnect, reconnection_delay=0.1,
                                 reconnection_delay_max=0.2, randomization_factor=0)
        clients.append(self.c)
        self.cond = threading.Condition()
        self.log = []  # [namespace, event, args...]
        for ns in namespaces:
            self.c.on("*", self._recorder(ns), namespace=ns)
            for ev in ("connect", "disconnect"):
                self.c.on(ev, self._named(ns, ev), namespace=ns)
            self.c.on("connect_error", self._named(ns, "connect_error"), namespace=ns)

    def _recorder(self, ns):
        def h(event, *args):
            self._add([ns, event] + list(args))
        return h

    def _named(self, ns, event):
        def h(*args):
            self._add([ns, event] + list(args))
        return h

    def _add(self, entry):
        with self.cond:
            self.log.append(entry)
            self.cond.notify_all()

    def on(self, event, fn, namespace="/"):
        self.c.on(event, fn, namespace=namespace)

    def connect(self, url=None, namespaces=("/",), auth=AUTH, wait=True):
        self.c.connect(url or base, auth=auth, transports=TRANSPORTS, namespaces=list(namespaces),
                       wait=wait, wait_timeout=STEP)

    def count(self, event, *args, namespace="/"):
        with self.cond:
            return sum(1 for e in self.log if e[0] == namespace and e[1] == event and e[2:2 + len(args)] == list(args))

    def wait(self, event, *args, namespace="/", n=1):
        """wait until the event (with these first arguments) arrived n times; returns the last."""
        def seen():
            return [e for e in self.log if e[0] == namespace and e[1] == event and e[2:2 + len(args)] == list(args)]
        with self.cond:
            if not self.cond.wait_for(lambda: len(seen()) >= n, STEP):
                raise Fail('no "%s" event %r within %.0f s (received: %s)' % (event, args, STEP, canon(self.log)[:500]))
            return seen()[n - 1][2:]

    def ack(self, event, *args, namespace="/"):
        done = threading.Event()
        box = []

        def cb(*vals):
            box.append(list(vals))
            done.set()
        self.c.emit(event, args, namespace=namespace, callback=cb)
        if not done.wait(STEP):
            raise Fail('no ack for "%s" within %.0f s' % (event, STEP))
        return box[0]

    def emit(self, event, *args, namespace="/"):
        self.c.emit(event, args, namespace=namespace)


ECHOES = [
    ("string", "hello"),
    ("string-unicode", "ünïcødé ☃ 😀 \u2028 \"quoted\" \\ </script>"),
    ("string-empty", ""),
    ("int", 42),
    ("float", 3.25),
    ("negative", -17.5),
    ("max-safe-int", 9007199254740991),
    ("true", True),
    ("false", False),
    ("null", None),
    ("array", [1, "two", False, None, [3]]),
    ("object", {"a": 1, "b": "x", "c": None, "d": [True], "e": {}}),
    ("nested", {"list": [{"deep": {"deeper": [1, [2, [3]]]}}], "empty": []}),
    ("binary", b"\xde\xad\xbe\xef"),
    ("binary-empty", b""),
    ("binary-in-object", {"name": "file", "data": b"\x01\x02\x03"}),
    ("binary-in-array", ["before", b"\x00\xff", "after"]),
    ("binary-deep", {"a": [{"b": {"c": [None, b"\x07\x07\x07"]}}]}),
    ("binary-several", {"x": b"\x01", "y": [b"\x02", {"z": b"\x03\x03"}], "w": b"\x04\x04\x04\x04"}),
]

REFUSAL = {"message": "not authorized", "data": {"code": 4001, "reason": "bad token"}}


def main():
    s = Peer()
    st = {}

    def auth_accepted():
        s.connect()
        if not s.c.get_sid("/"):
            raise Fail("no socket id")
    check("auth/accepted", auth_accepted)

    def auth_refused():
        r = Peer()
        r.connect(auth={"token": "wrong"}, wait=False)
        (err,) = r.wait("connect_error")
        same(err, REFUSAL, "connect_error data")
    check("auth/refused-with-data", auth_refused)

    def multiplexed():
        names = ["/", "/admin", "/dyn-42"]
        m = Peer(namespaces=names)
        m.connect(namespaces=names)
        for n in names:
            (who,) = m.ack("whoami", namespace=n)
            same(who, {"nsp": n, "sid": m.c.get_sid(n), "eio": m.c.eio.sid}, "whoami on " + n)
    check("namespaces/multiplexed", multiplexed)

    def invalid():
        m = Peer(namespaces=["/", "/nope"])
        m.connect(namespaces=["/", "/nope"], wait=False)
        (err,) = m.wait("connect_error", namespace="/nope")
        same(err, {"message": "Invalid namespace"}, "connect_error data")
        m.wait("connect")
        (who,) = m.ack("whoami")
        same(who["eio"], m.c.eio.sid, "the connection stays open for the others")
    check("namespaces/invalid", invalid)

    def transport():
        want = "polling" if mode == "polling" else "websocket"
        same(s.c.transport(), want, "transport")
    check("transport/selected", transport)

    for name, value in ECHOES:
        def echo(value=value):
            same(s.ack("echo", value), [value], "ack")
        check("echo/" + name, echo)

    def every_type():
        values = [v for _, v in ECHOES]
        s.emit("echoEmit", *values)
        same(s.wait("echoed"), values, "echoed arguments")
    check("emit/every-type", every_type)

    check("ack/multiple-values", lambda: same(s.ack("sum", 2, 3.5), [5.5, "sum"], "ack"))

    def server_to_client():
        asked = []

        def question(*args):
            asked.append(list(args))
            return args[1] + 1, "reply", b"\x09\x08", {"nested": [b"\x07"]}
        s.on("question", question)
        vals = s.ack("askMe")
        same(asked, [["q", 41, b"\x01\x02\x03"]], "the client's handler got")
        same(vals, [42, "reply", b"\x09\x08", {"nested": [b"\x07"]}], "the server got")
    check("ack/server-to-client", server_to_client)

    def ack_all():
        ps = [Peer() for _ in range(3)]
        for i, p in enumerate(ps):
            p.on("poll", lambda q, i=i: ("fine-%d" % i, q))
            p.connect()
            p.ack("join", "pollers")
        (res,) = s.ack("pollRoom", "pollers", STEP * 1000 / 2)
        want = sorted(({"sid": p.c.get_sid("/"), "values": ["fine-%d" % i, "how are you"]} for i, p in enumerate(ps)),
                      key=lambda a: a["sid"])
        same(res, {"answers": want, "timedOut": False}, "pollRoom")
    check("broadcast/ack-all", ack_all)

    def ack_timeout():
        a, b = Peer(), Peer()
        a.on("poll", lambda q: "here")
        # python-socketio acks every event that asks, so b answers late.
        b.on("poll", lambda q: time.sleep(1.0))
        for p in (a, b):
            p.connect()
            p.ack("join", "half")
        (res,) = s.ack("pollRoom", "half", 300)
        same(res, {"answers": [{"sid": a.c.get_sid("/"), "values": ["here"]}], "timedOut": True}, "pollRoom")
    check("broadcast/ack-timeout", ack_timeout)

    def fence(peers, token):
        for p in peers:
            p.wait("fence", token)

    def members_only():
        st["abc"] = a, b, c = Peer(), Peer(), Peer()
        for p in (a, b, c):
            p.connect()
        a.ack("join", "r1")
        b.ack("join", "r1")
        c.emit("toRoom", "r1", "t1")
        fence((a, b, c), "t1")
        same([p.count("roomMsg", "t1") for p in (a, b, c)], [1, 1, 0], "roomMsg received by a, b, c")
    check("rooms/members-only", members_only)

    def to_except_sender():
        a, b, c = st["abc"]
        a.emit("toRoomExceptMe", "r1", "t2")
        fence((a, b, c), "t2")
        same([p.count("roomMsg", "t2") for p in (a, b, c)], [0, 1, 0], "roomMsg received by a, b, c")
    check("rooms/to-except-sender", to_except_sender)

    def broadcast_except_sender():
        a, b, c = st["abc"]
        a.emit("shout", "t3")
        fence((a, b, c), "t3")
        same([p.count("shouted", "t3") for p in (a, b, c)], [0, 1, 1], "shouted received by a, b, c")
    check("broadcast/except-sender", broadcast_except_sender)

    def catchall():
        vals = s.ack("noSuchEvent", 1, "two", {"three": b"\x03"})
        same(vals, ["caught", "noSuchEvent", [1, "two", {"three": b"\x03"}]], "ack")
    check("catchall/unknown-event", catchall)

    check("catchall/not-for-handled", lambda: same(s.ack("caughtEvents"), [["noSuchEvent"]], "events the catch-all saw"))

    def server_disconnect():
        k = Peer(reconnect=True)
        k.connect()
        k.emit("kickMe")
        k.wait("disconnect")
        time.sleep(0.3)  # longer than the reconnection delay
        if k.c.connected or k.count("connect") != 1:
            raise Fail("the client reconnected after a server disconnect")
    check("disconnect/server", server_disconnect)

    def server_close():
        names = ["/", "/admin"]
        k = Peer(reconnect=True, namespaces=names)
        k.connect(namespaces=names)
        k.emit("kickAll")
        for n in names:
            k.wait("disconnect", namespace=n)
        time.sleep(0.3)  # longer than the reconnection delay
        if k.c.connected or k.count("connect") != 1 or k.count("connect", namespace="/admin") != 1:
            raise Fail("the client reconnected after the server closed the connection")
    check("disconnect/server-close", server_close)

    def engine_closed():
        k = Peer(reconnect=True)
        k.connect()
        (before,) = k.ack("whoami")
        k.emit("dropMe")
        k.wait("disconnect")
        if mode == "polling":
            # The pending poll gets the close packet, as from Node, which
            # python-socketio 5.7.2 takes as final.
            time.sleep(0.3)  # longer than the reconnection delay
            if k.c.connected:
                raise Fail("the client reconnected after the close packet")
            return
        # Over WebSocket the server closes the WebSocket (close frame, no
        # close packet), as Node does: the client reconnects by itself.
        k.wait("connect", n=2)
        (after,) = k.ack("whoami")
        if after["eio"] == before["eio"]:
            raise Fail("not a new connection: " + canon([before, after]))
    check("engine-closed/disconnected", engine_closed)

    def transport_lost():
        r = Peer(reconnect=True)
        r.connect(url=proxy)
        (before,) = r.ack("whoami")
        r.emit("cutMe")
        r.wait("disconnect")
        r.wait("connect", n=2)
        (after,) = r.ack("whoami")
        if after["eio"] == before["eio"] or after["sid"] != r.c.get_sid("/"):
            raise Fail("not a new connection: " + canon([before, after]))
    check("reconnect/transport-lost", transport_lost)

    def dropped():
        r = Peer(reconnect=True)
        r.connect()
        (before,) = r.ack("whoami")
        r.emit("dropSelf")
        r.wait("disconnect")
        r.wait("connect", n=2)
        (after,) = r.ack("whoami")
        if after["eio"] == before["eio"] or after["sid"] == before["sid"]:
            raise Fail("not a new connection: " + canon([before, after]))
    check("reconnect/dropped", dropped)


def finish(code):
    for c in clients:
        try:
            c.disconnect()
        except Exception:
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def deadline():
    sys.stderr.write("interop_client.py: overall deadline passed\n")
    finish(3)


timer = threading.Timer(45, deadline)
timer.daemon = True
timer.start()
try:
    main()
except Exception as e:
    sys.stderr.write("interop_client.py: %r\n" % e)
    finish(1)
finish(0)
