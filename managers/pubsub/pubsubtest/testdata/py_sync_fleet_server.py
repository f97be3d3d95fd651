"""A python-socketio server in a fleet with siokit servers, for
siopubsubtest.RunPythonFleet: Debian's python3-socketio (Server in threading
mode) with one of its synchronous managers. Without simple-websocket, which
Debian does not package, it serves HTTP long-polling only.

Usage: /usr/bin/python3 py_sync_fleet_server.py MANAGER URL CHANNEL

MANAGER is kombu (KombuManager, python3-kombu), kafka (KafkaManager,
python3-kafka) or redis (RedisManager, python3-redis).

It listens on a free loopback port and prints "LISTENING <port>". The events
are those of managers/redis/testdata/py_fleet_server.py.
"""

import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import socketio

kind, url, channel = sys.argv[1:4]
if kind == "kombu":
    mgr = socketio.KombuManager(url, channel=channel)
elif kind == "kafka":
    mgr = socketio.KafkaManager(url, channel=channel)
else:
    mgr = socketio.RedisManager(url, channel=channel)
sio = socketio.Server(async_mode="threading", client_manager=mgr)


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


httpd = make_server("127.0.0.1", 0, socketio.WSGIApp(sio),
                    server_class=Server, handler_class=Quiet)
print("LISTENING %d" % httpd.server_port, flush=True)
httpd.serve_forever()
