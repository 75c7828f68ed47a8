// The fleet page: renders /sim/live state documents and drives the control API.
"use strict";

(function () {
  const devicesEl = document.getElementById("devices");
  const eventsEl = document.getElementById("events");
  const template = document.getElementById("device-card");
  const liveEl = document.getElementById("live");
  const cards = new Map();
  const rainbowTimers = new Map();
  let accessToken = "";

  function post(path) {
    return fetch(path, { method: "POST" }).then(function (response) {
      return response.json().catch(function () { return {}; });
    });
  }

  function shortTime(iso) {
    const when = new Date(iso);
    return when.toLocaleTimeString([], { hour12: false }) + "." +
      String(when.getMilliseconds()).padStart(3, "0");
  }

  function cardFor(device) {
    let card = cards.get(device.id);
    if (card) return card;

    card = template.content.firstElementChild.cloneNode(true);
    card.querySelector(".device-name").textContent = device.name;
    card.querySelector(".device-id").textContent = device.id;
    card.querySelector('[data-action="press"]').addEventListener("click", function () {
      post("/sim/devices/" + device.id + "/press");
      card.classList.add("just-pressed");
      setTimeout(function () { card.classList.remove("just-pressed"); }, 160);
    });
    card.querySelector('[data-action="rainbow"]').addEventListener("click", function () {
      post("/sim/devices/" + device.id + "/call/rainbow");
    });
    card.querySelector('[data-action="toggle"]').addEventListener("click", function () {
      const goingOnline = card.classList.contains("is-offline");
      post("/sim/devices/" + device.id + (goingOnline ? "/online" : "/offline"));
    });
    cards.set(device.id, card);
    return card;
  }

  function renderLed(card, device) {
    const led = card.querySelector(".led");
    led.style.setProperty("--led", device.led.colour || "transparent");
    led.classList.toggle("off", device.led.mode === "off");

    clearTimeout(rainbowTimers.get(device.id));
    const dancing = device.led.rainbow_ms_left > 0;
    led.classList.toggle("dancing", dancing);
    if (dancing) {
      // The state arrives once; the page itself stops the dance on time.
      rainbowTimers.set(device.id, setTimeout(function () {
        led.classList.remove("dancing");
      }, device.led.rainbow_ms_left));
    }
  }

  function renderDevice(device) {
    const card = cardFor(device);
    const status = card.querySelector(".status");
    status.textContent = device.online ? "online" : "offline";
    status.classList.toggle("online", device.online);
    card.classList.toggle("is-offline", !device.online);
    card.querySelector(".presses").textContent =
      device.presses + (device.presses === 1 ? " press" : " presses");
    card.querySelector('[data-action="press"]').disabled = !device.online;
    card.querySelector('[data-action="rainbow"]').disabled = !device.online;
    card.querySelector('[data-action="toggle"]').textContent =
      device.online ? "Go offline" : "Come online";

    const call = device.last_call;
    card.querySelector(".last-call").textContent = call
      ? "last call: " + call.function + "(" + (call.argument || "") + ") → " +
        (call.error || call.return_value) + " at " + shortTime(call.called_at)
      : "no function calls yet";
    renderLed(card, device);
    return card;
  }

  function renderEvent(event) {
    const item = document.createElement("li");
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = shortTime(event.published_at);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = event.name;
    const data = document.createElement("span");
    data.className = "data";

    const text = event.data === null ? "" : String(event.data);
    if (/^https?:\/\/\S+\.svg$/.test(text)) {
      const picture = document.createElement("img");
      picture.src = text;
      picture.alt = "picture from " + event.coreid;
      data.appendChild(picture);
    }
    const detail = document.createElement("span");
    detail.textContent = text + "  ·  " + event.coreid;
    data.appendChild(detail);
    item.append(when, name, data);
    return item;
  }

  function render(state) {
    accessToken = state.access_token;
    document.getElementById("stream-count").textContent = state.streams.length;
    document.getElementById("device-count").textContent = state.devices.length + " devices";

    const faults = state.faults.rejections.length + state.faults.stream_faults.length;
    document.getElementById("fault-summary").textContent =
      faults ? faults + " stream fault(s) armed" : "";

    devicesEl.replaceChildren.apply(devicesEl, state.devices.map(renderDevice));
    if (!state.devices.length) {
      devicesEl.innerHTML = '<p class="muted">The fleet is empty (SIM_DEVICES=0).</p>';
    }

    const items = state.recent_events.map(renderEvent);
    if (!items.length) {
      const empty = document.createElement("li");
      empty.innerHTML = '<span class="empty">No events yet. Press a button!</span>';
      items.push(empty);
    }
    eventsEl.replaceChildren.apply(eventsEl, items);
  }

  function connect() {
    const feed = new EventSource("/sim/live");
    feed.addEventListener("state", function (message) {
      liveEl.textContent = "live";
      liveEl.className = "pill pill-live";
      render(JSON.parse(message.data));
    });
    feed.addEventListener("error", function () {
      liveEl.textContent = "reconnecting…";
      liveEl.className = "pill pill-waiting";
    });
  }

  document.getElementById("token").addEventListener("click", function (click) {
    click.target.textContent = accessToken || "(not loaded yet)";
    click.target.classList.remove("secret");
  });
  document.getElementById("burst").addEventListener("click", function () {
    fetch("/sim/burst", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ count: 20, seconds: 4 }),
    });
  });

  connect();
})();
