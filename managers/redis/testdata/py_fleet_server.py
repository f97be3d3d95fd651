"""A python-socketio server in a fleet with siokit servers, for
python_test.go: Debian's python3-socketio (AsyncServer on aiohttp) with
AsyncRedisManager, so it shares rooms, broadcasts, disconnects, close_room
and callbacks with the siokit servers through Redis.

Usage: /usr/bin/python3 py_fleet_server.py REDIS_URL CHANNEL

It listens on a free loopback port and prints "LISTENING <port>". Each event
below acks once it is done, so that the test knows the message is out.
"""

import asyncio
import sys

import socketio
from aiohttp import web

mgr = socketio.AsyncRedisManager(sys.argv[1], channel=sys.argv[2])
sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=mgr)


@sio.event
async def join(sid, room):
    sio.enter_room(sid, room)
    return True


@sio.event
async def bcast(sid, to, skip, event, payload):
    # Three arguments: a str, the payload and its bytes.
    await sio.emit(event, ("py", payload, payload.encode()), to=to or None,
                   skip_sid=skip or None)
    return True


@sio.event
async def kick(sid, target):
    await sio.disconnect(target)
    return True


@sio.event
async def close(sid, room):
    await sio.close_room(room)
    return True


@sio.event
async def call(sid, target):
    # Asks a socket of any server of the fleet; its answer comes back
    # through Redis as a callback message.
    try:
        return await sio.call("ask", "py", to=target, timeout=5)
    except Exception as e:  # noqa: BLE001 - reported to the test
        return "error: " + repr(e)


async def main():
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print("LISTENING %d" % port, flush=True)
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main())
