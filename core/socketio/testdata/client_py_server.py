"""A Socket.IO server built with python-socketio (Debian python3-socketio
with aiohttp), for the Go client's interoperability tests
(client_interop_test.go).

Usage: /usr/bin/python3 client_py_server.py PORT

It listens on 127.0.0.1:PORT (0 picks a free port) and prints
"LISTENING <port>" once ready. Namespace "/" requires auth
{"token": "secret"}; "/admin" does not.
"""

import asyncio
import sys

import socketio
from aiohttp import web

SAMPLE = ("héllo", 42, 1.5, True, None, {"k": [1, "x"]},
          b"\x00\x01\x02\xff", {"bin": b"\x09\x08", "n": 1})

sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=1,
                           ping_timeout=2)


@sio.event
async def connect(sid, environ, auth):
    if not auth or auth.get("token") != "secret":
        raise socketio.exceptions.ConnectionRefusedError(
            "unauthorized", {"reason": "bad token"})
    await sio.emit("welcome", SAMPLE, to=sid)


@sio.event
async def echo(sid, *args):
    return args


@sio.on("echo-back")
async def echo_back(sid, *args):
    await sio.emit("echoed", args, to=sid)


@sio.event
async def ask(sid, n):
    try:
        r = await sio.call("double", n, to=sid, timeout=5)
        await sio.emit("answer", (r, "ok"), to=sid)
    except Exception as e:  # noqa: BLE001 - reported to the test
        await sio.emit("answer", (-1, repr(e)), to=sid)


@sio.event
async def poke(sid):
    await sio.emit("unhandled", ("x", 1), to=sid)


@sio.event
async def join(sid, room):
    sio.enter_room(sid, room)
    return "ok"


@sio.on("to-room")
async def to_room(sid, room, msg):
    await sio.emit("room-msg", msg, room=room)


@sio.event
async def shout(sid, msg):
    await sio.emit("news", msg)


@sio.event
async def whoami(sid):
    return "/ " + sid


@sio.event
async def kick(sid):
    await sio.disconnect(sid)


@sio.event
async def hold(sid):
    """Never acknowledges: the client's ack stays pending. "holding" tells
    the client the event arrived."""
    await sio.emit("holding", to=sid)
    await asyncio.sleep(3600)


@sio.event
async def drop(sid, *args):
    """Closes the Engine.IO connection (an accidental disconnect for the
    client), as the Node server's socket.conn.close() does."""
    await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/"))


@sio.on("whoami", namespace="/admin")
async def admin_whoami(sid):
    return "/admin " + sid


@sio.on("connect", namespace="/admin")
async def admin_connect(sid, environ, auth):
    return True


async def main():
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", int(sys.argv[1]))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("LISTENING %d" % port, flush=True)
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main())
