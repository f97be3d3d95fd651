"""python-socketio's Client with serializer='msgpack' against a server
speaking the msgpack parser (siomsgpack's interop tests).

Usage: client.py URL TRANSPORT

It checks the server's welcome (binary included), an ack on "/" and on
"/chat", and a broadcast reaching two clients, then prints OK. It does not
answer a server-side ack: python-socketio 5.7.2's msgpack packets drop an
ack id of 0 (``if self.id:``), the first id a server uses.
"""
import sys
import threading

import socketio

url, transport = sys.argv[1], sys.argv[2]
WAIT = 10


def client():
    return socketio.Client(serializer='msgpack', reconnection=False)


def sample():
    return ['héllo', 42, 1.5, True, None, {'k': [1, 'x']},
            bytes([0, 1, 2, 255]), {'bin': bytes([9, 8]), 'n': 1}]


def main():
    a, b = client(), client()
    welcome, news_a, news_b = {}, {}, {}
    got_welcome, got_a, got_b = threading.Event(), threading.Event(), threading.Event()

    @a.on('welcome')
    def on_welcome(*args):
        welcome['args'] = list(args)
        got_welcome.set()

    @a.on('news')
    def on_news_a(*args):
        news_a['args'] = list(args)
        got_a.set()

    @b.on('news')
    def on_news_b(*args):
        news_b['args'] = list(args)
        got_b.set()

    a.connect(url, namespaces=['/', '/chat'], transports=[transport], auth={'token': 'secret'})
    assert got_welcome.wait(WAIT), 'no welcome'
    assert welcome['args'] == sample(), welcome['args']

    r = a.call('echo', tuple(sample()), timeout=WAIT)
    assert list(r) == sample(), r

    r = a.call('echo', ('in chat', bytes([7])), namespace='/chat', timeout=WAIT)
    assert list(r) == ['in chat', bytes([7])], r

    b.connect(url, transports=[transport], auth={'token': 'secret'})
    a.emit('shout', ('hi all', bytes([5, 6])))
    assert got_a.wait(WAIT) and got_b.wait(WAIT), 'no broadcast'
    assert news_a['args'] == ['hi all', bytes([5, 6])], news_a
    assert news_b['args'] == ['hi all', bytes([5, 6])], news_b
    a.disconnect()
    b.disconnect()
    print('OK')


main()
