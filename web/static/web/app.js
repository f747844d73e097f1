// The single-page client: a hash router over the screens, the bottom/side navigation,
// the unread badge, and the vertical feeds.
import { api, enc, loadMe, session, signOut } from "./api.js";
import { renderCard } from "./cards.js";
import { h, toast } from "./dom.js";
import { authPage, hashtagPage, inboxPage, profilePage, searchPage, uploadPage } from "./pages.js";
import { FeedScroller } from "./player.js";

const main = document.getElementById("main");
const UNREAD_POLL_MS = 30000;
let scroller = null;
let unreadTimer = null;

function feedPage(source) {
  const root = h("div", { class: "feed", tabindex: "-1", "aria-label": source.label });
  const empty = h("p", { class: "feed-empty", hidden: true }, source.empty);
  main.replaceChildren(root, empty);
  let cursor = null;
  let done = false;
  scroller = new FeedScroller(root, {
    renderCard,
    loadMore: async () => {
      if (done) return;
      try {
        const page = await source.load(cursor);
        scroller.append(page.items);
        cursor = page.next_cursor;
        done = !cursor;
        if (page.source === "degraded") toast("The feed is catching up; showing a simpler version.");
      } catch (error) {
        toast(error.message);
        done = true;
      }
      empty.hidden = root.children.length > 0;
    },
  });
  scroller.more();
  root.focus({ preventScroll: true });
}

const FEEDS = {
  following: {
    label: "Following",
    empty: "Nothing here yet. Follow people to see their videos.",
    load: (cursor) => api("/feed", { query: { cursor, limit: 5 } }),
  },
  "for-you": {
    label: "For You",
    empty: "No videos to recommend yet.",
    load: (cursor) => api(session.token ? "/feed/for-you" : "/feed/trending", { query: { cursor, limit: 5 } }),
  },
};

function singleVideo(id) {
  return {
    label: "Video",
    empty: "This video is not available.",
    load: async () => ({ items: [await api(`/videos/${enc(id)}`)], next_cursor: null }),
  };
}

function setCurrentNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.screen = name;
}

async function refreshUnread() {
  const badge = document.getElementById("unread");
  if (!session.token) {
    badge.hidden = true;
    return;
  }
  try {
    const { count } = await api("/notifications/unread-count");
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count === 0;
    badge.closest("a").setAttribute("aria-label", count ? `Inbox, ${count} unread` : "Inbox");
  } catch {
    // the next poll tries again
  }
}

function renderAccount() {
  const signedIn = Boolean(session.token);
  for (const element of document.querySelectorAll("[data-signed-in]")) element.hidden = !signedIn;
  for (const element of document.querySelectorAll("[data-signed-out]")) element.hidden = signedIn;
  const me = document.querySelector("[data-nav=me]");
  me.href = session.me ? `#/u/${enc(session.me.username)}` : "#/login";
  clearInterval(unreadTimer);
  if (signedIn) unreadTimer = setInterval(refreshUnread, UNREAD_POLL_MS);
  refreshUnread();
}

const PRIVATE = new Set(["following", "inbox", "upload"]);

async function route() {
  if (scroller) {
    scroller.destroy();
    scroller = null;
  }
  document.getElementById("comments").close?.();
  const [path, queryString = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const name = parts[0] || (session.token ? "following" : "for-you");
  if (PRIVATE.has(name) && !session.token) {
    location.replace("#/login");
    return;
  }
  setCurrentNav(name === "u" && session.me && parts[1] === session.me.username ? "me" : name);
  try {
    if (name === "following" || name === "for-you") feedPage(FEEDS[name]);
    else if (name === "video") feedPage(singleVideo(parts[1]));
    else if (name === "login" || name === "signup") authPage(main, name);
    else if (name === "u") await profilePage(main, parts[1]);
    else if (name === "tag") await hashtagPage(main, parts[1]);
    else if (name === "search") searchPage(main, new URLSearchParams(queryString));
    else if (name === "inbox") await inboxPage(main, refreshUnread);
    else if (name === "upload") uploadPage(main);
    else main.replaceChildren(h("section", { class: "panel" }, h("h1", {}, "Not found"), h("a", { href: "#/for-you" }, "Back to videos")));
  } catch (error) {
    main.replaceChildren(h("section", { class: "panel" }, h("h1", {}, error.status === 404 ? "Not found" : "Something went wrong"), h("p", {}, error.message)));
  }
}

document.getElementById("logout").addEventListener("click", async () => {
  await signOut().catch(() => {});
  renderAccount();
  location.hash = "#/for-you";
});
window.addEventListener("signed-in", renderAccount);
window.addEventListener("signed-out", () => {
  renderAccount();
  toast("You have been signed out.");
});
window.addEventListener("hashchange", route);

await loadMe();
renderAccount();
route();
