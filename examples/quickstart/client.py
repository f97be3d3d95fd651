import socketio

sio = socketio.Client()


@sio.on("chat")
def chat(id, text):
    print(id, "says", text)


sio.connect("http://127.0.0.1:8000")
print("ack:", sio.call("chat", "hello from Python"))
sio.disconnect()
