// Keeps the server-rendered timeline live: new posts, likes, call outcomes and
// device presence arrive over /events (server-sent events). Every value shown
// comes from the JSON the server sends, so this file only places it.
"use strict";

(() => {
  const list = document.getElementById("posts");
  const template = document.getElementById("post-template");
  const empty = document.querySelector(".empty");
  const more = document.querySelector(".more");
  const live = document.querySelector(".live");
  const pageSize = Number(list.dataset.pageSize) || 20;

  // ---- cards ---------------------------------------------------------------

  const cardOf = (postId) => list.querySelector(`.post[data-post-id="${CSS.escape(String(postId))}"]`);

  function fillDevice(card, device) {
    card.dataset.deviceId = device.id;
    const avatar = card.querySelector(".avatar");
    avatar.className = `avatar hue-${device.hue}`;
    avatar.textContent = device.initials;
    card.querySelector(".device-name").textContent = device.display_name;
    const presence = card.querySelector(".presence");
    presence.dataset.online = device.online === null ? "unknown" : String(device.online);
    presence.querySelector(".presence-label").textContent =
      device.online === null ? "" : device.online ? "online" : "offline";
  }

  function fillCall(card, call) {
    const badge = card.querySelector(".call");
    const shownId = Number(badge.dataset.callId || 0);
    // Only a newer call, or news of the one shown, replaces what is there.
    if (call.id < shownId) return;
    if (call.id === shownId && badge.dataset.state && isFinished(badge.dataset.state) && !call.finished) return;
    badge.dataset.callId = String(call.id);
    badge.dataset.state = call.state;
    badge.querySelector(".call-label").textContent = call.label;
    badge.title = call.label;
  }

  const isFinished = (state) => state === "succeeded" || state === "failed";

  function setLikes(card, likes) {
    const counter = card.querySelector(".likes");
    // Likes only grow; a late, older count must not make the number go back.
    counter.textContent = String(Math.max(Number(counter.textContent) || 0, likes));
  }

  function fillCard(card, post) {
    card.dataset.postId = String(post.id);
    fillDevice(card, post.device);
    const when = card.querySelector(".when");
    when.dateTime = post.published_at;
    when.textContent = relativeTime(post.published_at);
    const img = card.querySelector(".picture img");
    if (img.getAttribute("src") !== post.image_url) img.src = post.image_url;
    img.alt = post.caption || `Picture from ${post.device.display_name}`;
    setLikes(card, post.likes);
    if (post.last_call) fillCall(card, post.last_call);
  }

  function newCard(post) {
    const card = template.content.firstElementChild.cloneNode(true);
    fillCard(card, post);
    return card;
  }

  // Inserted in id order, so a late or repeated update lands where it belongs.
  function placePost(post, { fresh }) {
    const existing = cardOf(post.id);
    if (existing) {
      fillCard(existing, post);
      return;
    }
    const card = newCard(post);
    if (fresh) card.classList.add("is-new");
    const older = [...list.children].find((other) => Number(other.dataset.postId) < post.id);
    list.insertBefore(card, older || null);
    empty.hidden = true;
  }

  // ---- likes ---------------------------------------------------------------

  list.addEventListener("click", async (click) => {
    const button = click.target.closest(".like");
    if (!button) return;
    const card = button.closest(".post");
    button.disabled = true;
    button.classList.remove("pop");
    void button.offsetWidth; // restart the animation on every like
    button.classList.add("liked", "pop");
    try {
      const answer = await fetch(`/api/posts/${card.dataset.postId}/likes`, { method: "POST" });
      if (answer.ok) setLikes(card, (await answer.json()).likes);
    } finally {
      button.disabled = false;
    }
  });

  // ---- paging --------------------------------------------------------------

  async function fetchPosts(query) {
    const answer = await fetch(`/api/posts?${new URLSearchParams(query)}`);
    if (!answer.ok) throw new Error(`posts: HTTP ${answer.status}`);
    return (await answer.json()).posts;
  }

  more.addEventListener("click", async () => {
    const last = list.lastElementChild;
    if (!last) return;
    more.disabled = true;
    try {
      const posts = await fetchPosts({ limit: pageSize, before: last.dataset.postId });
      posts.forEach((post) => placePost(post, { fresh: false }));
      more.hidden = posts.length < pageSize;
    } finally {
      more.disabled = false;
    }
  });

  // ---- live updates --------------------------------------------------------

  function setLive(state, label) {
    live.dataset.state = state;
    live.querySelector(".live-label").textContent = label;
  }

  const handlers = {
    post: (post) => placePost(post, { fresh: true }),
    likes: ({ post_id, likes }) => {
      const card = cardOf(post_id);
      if (card) setLikes(card, likes);
    },
    call: (call) => {
      const card = cardOf(call.post_id);
      if (card) fillCall(card, call);
    },
    device: (device) => {
      list.querySelectorAll(`.post[data-device-id="${CSS.escape(device.id)}"]`)
        .forEach((card) => fillDevice(card, device));
    },
  };

  function listen() {
    const source = new EventSource("/events");
    let opened = false;
    source.addEventListener("open", () => {
      setLive("open", "Live");
      // After a reconnect, catch up on whatever happened while away.
      if (opened) fetchPosts({ limit: pageSize }).then((posts) => posts.forEach((post) => placePost(post, { fresh: false }))).catch(() => {});
      opened = true;
    });
    source.addEventListener("error", () => setLive("down", "Reconnecting…"));
    for (const [kind, handle] of Object.entries(handlers)) {
      source.addEventListener(kind, (message) => handle(JSON.parse(message.data)));
    }
  }

  // ---- time ----------------------------------------------------------------

  const minute = 60 * 1000;
  const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

  function relativeTime(iso) {
    const then = new Date(iso);
    if (Number.isNaN(then.getTime())) return iso;
    const age = Date.now() - then.getTime();
    if (age < minute) return "just now";
    if (age < 60 * minute) return `${Math.floor(age / minute)} min`;
    if (age < 24 * 60 * minute) return `${Math.floor(age / (60 * minute))} h`;
    return dateFormat.format(then);
  }

  function refreshTimes() {
    list.querySelectorAll(".when").forEach((when) => {
      when.textContent = relativeTime(when.dateTime);
      when.title = new Date(when.dateTime).toLocaleString();
    });
  }

  refreshTimes();
  setInterval(refreshTimes, 30 * 1000);
  listen();
})();
