// The chat page: join a room under a nickname, send messages, show who types.
(function () {
  const $ = (id) => document.getElementById(id);
  const socket = io();
  const typers = new Map();
  let joined = false;
  let typingSent = false;
  let typingTimer = null;

  const setStatus = (text, online) => {
    $("status").textContent = text;
    $("status").classList.toggle("online", online);
  };
  socket.on("connect", () => {
    setStatus("online", true);
    if (joined) join(); // rejoin after a reconnection
  });
  socket.on("disconnect", () => setStatus("offline", false));
  socket.on("connect_error", (err) => setStatus("error: " + err.message, false));

  function add(msg) {
    const li = document.createElement("li");
    if (msg.nick === "system") {
      li.className = "system";
      li.textContent = msg.text;
    } else {
      const nick = document.createElement("span");
      nick.className = "nick";
      nick.textContent = msg.nick;
      li.append(nick, document.createTextNode(msg.text));
    }
    $("messages").append(li);
    $("messages").scrollTop = $("messages").scrollHeight;
  }
  socket.on("message", add);

  function renderTyping() {
    const names = [...typers.keys()];
    $("typing").textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing…" : "";
  }
  socket.on("typing", ({ nick, typing }) => {
    clearTimeout(typers.get(nick));
    if (typing) typers.set(nick, setTimeout(() => { typers.delete(nick); renderTyping(); }, 4000));
    else typers.delete(nick);
    renderTyping();
  });

  async function join() {
    const nick = await socket.emitWithAck("nick", $("nick").value);
    if (nick && nick.message) return add({ nick: "system", text: nick.message });
    const room = await socket.emitWithAck("join", $("room").value);
    if (room && room.message) return add({ nick: "system", text: room.message });
    joined = true;
    document.title = "siokit chat: " + room;
    $("message").disabled = $("send").disabled = false;
    $("message").focus();
  }
  $("join-form").addEventListener("submit", (e) => { e.preventDefault(); join(); });

  $("send-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("message").value;
    if (!text.trim()) return;
    socket.emit("message", text);
    $("message").value = "";
    stopTyping();
  });
  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSent) socket.emit("typing", false);
    typingSent = false;
  }
  $("message").addEventListener("input", () => {
    if (!typingSent) socket.emit("typing", true);
    typingSent = true;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 2000);
  });
})();
