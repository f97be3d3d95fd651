"""closes_client.py drives python-socketio's Client against a server of
siotest.RunCloses: it stays connected, reconnecting by itself, and says
hello (with its name) on every connection, until a server emits "bye".
It prints one JSON line: {"check": "restart/reconnected", "ok": bool, ...}.

Usage: python3 closes_client.py <URL> <polling|websocket|upgrade> <name>
"""
import json
import sys
import threading
import time

import socketio

url, mode, name = sys.argv[1:4]
TRANSPORTS = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[mode]

start = time.monotonic()
bye = threading.Event()
c = socketio.Client(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.3, randomization_factor=0)


@c.event
def connect():
    c.emit("hello", name)


@c.on("bye")
def on_bye():
    bye.set()


c.connect(url, transports=TRANSPORTS)
ok = bye.wait(30)
ms = int((time.monotonic() - start) * 1000)
print(json.dumps({"check": "restart/reconnected", "ok": ok, "error": "" if ok else "no bye from the restarted server", "ms": ms}), flush=True)
c.disconnect()
sys.exit(0 if ok else 1)
