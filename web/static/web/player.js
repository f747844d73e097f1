// The vertical feed: one clip per screen (CSS scroll-snap), the visible clip plays through
// hls.js, the others pause, the next one preloads; leaving a clip records its view.
import { api, enc, session } from "./api.js";

const players = new WeakMap(); // <video> -> { hls, card, watchedMs, startedAt }

function nativeHls(video) {
  return video.canPlayType("application/vnd.apple.mpegurl") !== "";
}

function attach(video, { preloadOnly = false } = {}) {
  const state = players.get(video);
  if (state.hls || video.dataset.attached) return;
  const src = state.card.hls_url;
  video.dataset.attached = "1";
  if (window.Hls && window.Hls.isSupported()) {
    const hls = new window.Hls({ maxBufferLength: preloadOnly ? 4 : 20, capLevelToPlayerSize: true });
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) video.dataset.playerError = `${data.type}: ${data.details}`;
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    state.hls = hls;
  } else if (nativeHls(video)) {
    video.src = src;
  } else {
    video.dataset.playerError = "HLS playback is not supported in this browser";
  }
}

function detach(video) {
  const state = players.get(video);
  if (!state) return;
  video.pause();
  if (state.hls) {
    state.hls.destroy();
    state.hls = null;
  }
  video.removeAttribute("src");
  delete video.dataset.attached;
}

function recordView(video) {
  const state = players.get(video);
  if (!state || !session.token) return;
  if (state.startedAt !== null) {
    state.watchedMs += performance.now() - state.startedAt;
    state.startedAt = null;
  }
  if (state.recorded || state.watchedMs < 1) return;
  state.recorded = true;
  const watched = Math.min(Math.round(state.watchedMs), 10 * 60 * 1000);
  api(`/videos/${enc(state.card.id)}/view`, { method: "POST", body: { watched_ms: watched }, keepalive: true }).catch(
    () => {
      state.recorded = false; // a later leave tries again
    },
  );
}

function play(video) {
  attach(video);
  const attempt = video.play();
  if (attempt) attempt.catch(() => video.closest(".card")?.classList.add("needs-tap"));
}

export class FeedScroller {
  constructor(root, { loadMore, renderCard }) {
    this.root = root;
    this.loadMore = loadMore;
    this.renderCard = renderCard;
    this.muted = true;
    this.active = null;
    this.loading = false;
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      root,
      threshold: [0, 0.6],
    });
    this.onKey = (event) => this.key(event);
    document.addEventListener("keydown", this.onKey);
    this.onHide = () => this.active && recordView(this.active);
    window.addEventListener("pagehide", this.onHide);
  }

  append(cards) {
    for (const card of cards) {
      const element = this.renderCard(card, this);
      const video = element.querySelector("video");
      players.set(video, { card, hls: null, watchedMs: 0, startedAt: null, recorded: false });
      video.muted = this.muted;
      video.addEventListener("playing", () => {
        players.get(video).startedAt ??= performance.now();
        element.classList.remove("needs-tap", "paused");
      });
      video.addEventListener("pause", () => {
        const state = players.get(video);
        if (state.startedAt !== null) {
          state.watchedMs += performance.now() - state.startedAt;
          state.startedAt = null;
        }
        element.classList.add("paused");
      });
      this.root.append(element);
      this.observer.observe(element);
    }
  }

  onIntersect(entries) {
    for (const entry of entries) {
      const video = entry.target.querySelector("video");
      if (entry.intersectionRatio >= 0.6) this.activate(entry.target, video);
      else if (!entry.isIntersecting && video !== this.active) detach(video);
    }
  }

  activate(card, video) {
    if (this.active === video) return;
    if (this.active) {
      recordView(this.active);
      this.active.pause();
    }
    this.active = video;
    for (const other of this.root.querySelectorAll(".card.current")) other.classList.remove("current");
    card.classList.add("current");
    video.muted = this.muted;
    play(video);
    const next = card.nextElementSibling;
    if (next) attach(next.querySelector("video"), { preloadOnly: true });
    if (!next || !next.nextElementSibling) this.more();
  }

  async more() {
    if (this.loading) return;
    this.loading = true;
    try {
      await this.loadMore();
    } finally {
      this.loading = false;
    }
  }

  toggle(video) {
    if (video.paused) play(video);
    else video.pause();
  }

  setMuted(muted) {
    this.muted = muted;
    for (const video of this.root.querySelectorAll("video")) video.muted = muted;
  }

  step(direction) {
    const current = this.active?.closest(".card");
    const target = direction > 0 ? current?.nextElementSibling : current?.previousElementSibling;
    if (!target) return;
    const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
    target.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "start" });
  }

  key(event) {
    if (event.target.closest("input, textarea, select, dialog, [contenteditable]")) return;
    if (event.key === "ArrowDown" || event.key === "PageDown" || event.key === "j") this.step(1);
    else if (event.key === "ArrowUp" || event.key === "PageUp" || event.key === "k") this.step(-1);
    else if (event.key === " " && this.active) this.toggle(this.active);
    else if (event.key === "m") this.setMuted(!this.muted);
    else return;
    event.preventDefault();
  }

  destroy() {
    if (this.active) recordView(this.active);
    this.observer.disconnect();
    document.removeEventListener("keydown", this.onKey);
    window.removeEventListener("pagehide", this.onHide);
    for (const video of this.root.querySelectorAll("video")) detach(video);
  }
}
