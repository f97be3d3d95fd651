import { io } from "socket.io-client";

const socket = io("http://127.0.0.1:8000");
socket.on("connect", async () => {
  const ack = await socket.emitWithAck("chat", "hello from JavaScript");
  console.log("ack:", ack);
});
socket.on("chat", (id, text) => console.log(id, "says", text));
socket.on("announce", (text) => {
  console.log("announce:", text);
  socket.disconnect();
});
