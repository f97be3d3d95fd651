"""A python-socketio server in a fleet with siokit servers, for
siopubsubtest.RunPythonFleet: Debian's python3-socketio (Server in threading
mode) with one of its synchronous managers. Without simple-websocket, which
Debian does not package, it serves HTTP long-polling only.

Usage: /usr/bin/python3 py_sync_fleet_server.py MANAGER URL CHANNEL

MANAGER is kombu (KombuManager, python3-kombu), kafka (KafkaManager,
python3-kafka), redis (RedisManager, python3-redis) or zmq (ZmqManager, which
needs eventlet: python3-eventlet and python3-zmq; the server then runs on
eventlet's WSGI server, with WebSocket).

It listens on a free loopback port and prints "LISTENING <port>". The events
are those of managers/redis/testdata/py_fleet_server.py.
"""

import sys

if sys.argv[1] == "zmq":
    import eventlet

    eventlet.monkey_patch()

import socketserver  # noqa: E402 - after eventlet's monkey patching
from wsgiref.simple_server import (  # noqa: E402
    WSGIRequestHandler, WSGIServer, make_server)

import socketio  # noqa: E402

kind, url, channel = sys.argv[1:4]
if kind == "kombu":
    mgr = socketio.KombuManager(url, channel=channel)
elif kind == "kafka":
    mgr = socketio.KafkaManager(url, channel=channel)
elif kind == "zmq":
    mgr = socketio.ZmqManager(url, channel=channel)
else:
    mgr = socketio.RedisManager(url, channel=channel)
sio = socketio.Server(
    async_mode="eventlet" if kind == "zmq" else "threading",
    client_manager=mgr)


@sio.event
def join(sid, room):
    sio.enter_room(sid, room)
    return True


@sio.event
def bcast(sid, to, skip, event, payload):
    sio.emit(event, ("py", payload, payload.encode()), to=to or None,
             skip_sid=skip or None)
    return True


@sio.event
def kick(sid, target):
    sio.disconnect(target)
    return True


@sio.event
def close(sid, room):
    sio.close_room(room)
    return True


@sio.event
def call(sid, target):
    try:
        return sio.call("ask", "py", to=target, timeout=5)
    except Exception as e:  # noqa: BLE001 - reported to the test
        return "error: " + repr(e)


class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


if kind == "zmq":
    import eventlet.wsgi

    sock = eventlet.listen(("127.0.0.1", 0))
    print("LISTENING %d" % sock.getsockname()[1], flush=True)
    eventlet.wsgi.server(sock, socketio.WSGIApp(sio), log_output=False)
else:
    httpd = make_server("127.0.0.1", 0, socketio.WSGIApp(sio),
                        server_class=Server, handler_class=Quiet)
    print("LISTENING %d" % httpd.server_port, flush=True)
    httpd.serve_forever()
