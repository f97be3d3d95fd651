"""ws_client.py checks the server's WebSocket protocol with python's
websocket-client (Debian python3-websocket), for eiotest.RunWebSocket. It
prints "ALL OK" when every check passed. websocket-client has no
permessage-deflate: with "deflate" the server has it on and this client
does not offer it, so every message must come uncompressed.

Usage: python3 ws_client.py <ws(s) URL> <plain|deflate> <limit>
The server echoes every message, and closes the session on "4close".
"""
import socket
import ssl
import struct
import sys

import websocket
from websocket import ABNF

url, flag, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def dial():
    # websocket-client 1.2 sends "Origin: http://host" even over wss, which a
    # same-origin check that compares schemes refuses; send none, as a
    # non-browser client does.
    ws = websocket.create_connection(url, timeout=8, sslopt={"cert_reqs": ssl.CERT_NONE}, suppress_origin=True)
    ext = ws.getheaders().get("sec-websocket-extensions")
    if ext:
        fail("an extension was negotiated without an offer: " + ext)
    op, data = ws.recv_data()
    if op != ABNF.OPCODE_TEXT or not data.startswith(b"0{"):
        fail("no open packet: %r" % data[:20])
    return ws


def expect_echo(ws, op, data):
    got_op, got = ws.recv_data()
    if got_op != op or got != data:
        fail("echo of %d bytes: op %d, %d bytes" % (len(data), got_op, len(got)))


def close_code(ws):
    """Reads until the server's close frame and returns its code."""
    try:
        while True:
            frame = ws.recv_frame()
            if frame.opcode == ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else 1005
    except (websocket.WebSocketConnectionClosedException, socket.error) as e:
        return "connection closed without a close frame (%s)" % e


def expect_close(ws, code, what):
    got = close_code(ws)
    if got != code:
        fail("%s: close %r, want %d" % (what, got, code))
    ws.close()


ws = dial()
for n in (125, 126, 65535, 65536):
    text = b"4" + b"x" * (n - 1)
    ws.send(text, ABNF.OPCODE_TEXT)
    expect_echo(ws, ABNF.OPCODE_TEXT, text)
    binary = b"\xfe" * n
    ws.send_binary(binary)
    expect_echo(ws, ABNF.OPCODE_BINARY, binary)

# Fragments with pings between them: pongs, then the echo.
ws.send_frame(ABNF.create_frame(b"4" + b"f" * 999, ABNF.OPCODE_TEXT, fin=0))
ws.ping("a")
ws.send_frame(ABNF.create_frame(b"f" * 1000, ABNF.OPCODE_CONT, fin=0))
ws.ping("b")
ws.send_frame(ABNF.create_frame(b"f" * 1000, ABNF.OPCODE_CONT, fin=1))
pongs = []
while True:
    op, data = ws.recv_data(control_frame=True)
    if op == ABNF.OPCODE_PONG:
        pongs.append(data)
        continue
    if op != ABNF.OPCODE_TEXT or data != b"4" + b"f" * 2999:
        fail("fragmented echo: op %d, %d bytes" % (op, len(data)))
    break
if pongs != [b"a", b"b"]:
    fail("pongs %r" % pongs)

# The server closes the session: 1000.
ws.send("4close")
expect_close(ws, 1000, "server close")

# A client close is answered with its code.
ws = dial()
ws.send_frame(ABNF.create_frame(struct.pack("!H", 4001) + b"bye", ABNF.OPCODE_CLOSE))
expect_close(ws, 4001, "client close")

# Invalid UTF-8 in a text message: 1007.
ws = dial()
ws.send_frame(ABNF.create_frame(b"4\xff\xfe", ABNF.OPCODE_TEXT))
expect_close(ws, 1007, "invalid UTF-8")

# A reserved opcode: 1002.
ws = dial()
ws.sock.sendall(bytes([0x83, 0x80, 1, 2, 3, 4]))
expect_close(ws, 1002, "reserved opcode")

# A ping flood: 1008.
ws = dial()
try:
    for _ in range(300):
        ws.ping()
except (websocket.WebSocketConnectionClosedException, socket.error):
    pass
expect_close(ws, 1008, "ping flood")

# Too big: 1009.
ws = dial()
try:
    ws.send(b"4" + b"z" * limit, ABNF.OPCODE_TEXT)
except (websocket.WebSocketConnectionClosedException, socket.error):
    pass
expect_close(ws, 1009, "too big")

print("ALL OK", flush=True)
