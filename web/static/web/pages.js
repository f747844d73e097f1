// The screens other than the feed: sign in/up, profile, search, hashtag, inbox, upload.
import { api, enc, session, signIn, signUp } from "./api.js";
import { ago, count, h, richText, toast } from "./dom.js";
import { uploadVideo } from "./upload.js";

function field(label, attributes) {
  const id = `f-${attributes.name}`;
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attributes }), h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" }));
}

function showErrors(form, error) {
  for (const element of form.querySelectorAll(".error")) element.textContent = "";
  let shown = false;
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const target = form.querySelector(`#f-${name}-error`);
    if (target) {
      target.textContent = [].concat(messages).join(" ");
      form.querySelector(`#f-${name}`)?.setAttribute("aria-invalid", "true");
      shown = true;
    }
  }
  form.querySelector(".form-error").textContent = shown ? "" : error.message;
}

export function authPage(main, mode) {
  const signingUp = mode === "signup";
  const form = h(
    "form",
    { class: "panel auth", novalidate: true },
    h("h1", {}, signingUp ? "Create your account" : "Log in"),
    field("Username", { name: "username", autocomplete: "username", required: true, maxlength: 150, autocapitalize: "none" }),
    signingUp ? field("Email (optional)", { name: "email", type: "email", autocomplete: "email" }) : null,
    field("Password", { name: "password", type: "password", autocomplete: signingUp ? "new-password" : "current-password", required: true }),
    h("p", { class: "form-error", role: "alert" }),
    h("button", { type: "submit", class: "primary" }, signingUp ? "Sign up" : "Log in"),
    h("p", { class: "switch" }, signingUp ? "Already have an account? " : "New here? ", h("a", { href: signingUp ? "#/login" : "#/signup" }, signingUp ? "Log in" : "Sign up")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    form.querySelector("button[type=submit]").disabled = true;
    try {
      if (signingUp) await signUp(data.username.trim(), data.password, data.email?.trim());
      else await signIn(data.username.trim(), data.password);
      window.dispatchEvent(new Event("signed-in"));
      location.hash = "#/following";
    } catch (error) {
      showErrors(form, error);
    } finally {
      form.querySelector("button[type=submit]").disabled = false;
    }
  });
  main.replaceChildren(form);
  form.querySelector("input").focus();
}

function videoGrid(items) {
  return h(
    "ul",
    { class: "grid" },
    items.map((video) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `#/video/${enc(video.id)}`, "aria-label": video.caption || "Video" },
          video.poster_url ? h("img", { src: video.poster_url, alt: "", loading: "lazy" }) : h("span", { class: "poster-missing" }),
          h("span", { class: "views" }, `▶ ${count(video.counts?.views)}`),
        ),
      ),
    ),
  );
}

async function pagedGrid(container, path, query = {}) {
  let cursor = null;
  const button = h("button", { type: "button", class: "secondary more" }, "Load more");
  const load = async () => {
    const page = await api(path, { query: { ...query, cursor, limit: 18 } });
    button.before(videoGrid(page.items));
    cursor = page.next_cursor;
    button.hidden = !cursor;
    return page;
  };
  button.onclick = () => load().catch((error) => toast(error.message));
  container.append(button);
  const first = await load();
  if (!first.items.length) button.before(h("p", { class: "empty" }, "No videos yet."));
}

function relationButton(username, kind, initially, labels) {
  const button = h("button", { type: "button", class: "secondary", "aria-pressed": String(initially) }, initially ? labels[1] : labels[0]);
  button.onclick = async () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    try {
      await api(`/users/${enc(username)}/${kind}`, { method: on ? "PUT" : "DELETE" });
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? labels[1] : labels[0];
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  };
  return button;
}

async function inList(path, username) {
  const page = await api(path, { query: { limit: 50 } }).catch(() => ({ items: [] }));
  return page.items.some((user) => user.username === username);
}

export async function profilePage(main, username) {
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  const profile = await api(`/users/${enc(username)}`);
  const own = session.me && session.me.username === profile.username;
  const actions = h("div", { class: "profile-actions" });
  if (session.token && !own) {
    const following = Boolean(profile.viewer?.following);
    const follow = relationButton(profile.username, "follow", following, ["Follow", "Following"]);
    follow.className = "primary";
    const [blocked, muted] = await Promise.all([inList("/me/blocks", profile.username), inList("/me/mutes", profile.username)]);
    actions.append(
      follow,
      relationButton(profile.username, "mute", muted, ["Mute", "Muted"]),
      relationButton(profile.username, "block", blocked, ["Block", "Blocked"]),
    );
  } else if (own) {
    actions.append(h("a", { class: "button primary", href: "#/upload" }, "Upload a video"));
  }
  const initial = (profile.display_name || profile.username).slice(0, 1).toUpperCase();
  const section = h(
    "section",
    { class: "panel profile" },
    h(
      "header",
      {},
      profile.avatar_url ? h("img", { class: "big-avatar", src: profile.avatar_url, alt: "" }) : h("span", { class: "big-avatar initial", "aria-hidden": "true" }, initial),
      h("h1", {}, profile.display_name || profile.username),
      h("p", { class: "handle" }, `@${profile.username}`),
      h("p", { class: "stats" }, h("strong", {}, count(profile.counts.following)), " following · ", h("strong", { class: "followers" }, count(profile.counts.followers)), " followers"),
      profile.bio ? h("p", { class: "bio" }, richText(profile.bio)) : null,
      actions,
    ),
  );
  main.replaceChildren(section);
  await pagedGrid(section, own ? "/me/videos" : `/users/${enc(profile.username)}/videos`);
}

export async function hashtagPage(main, tag) {
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  const hashtag = await api(`/hashtags/${enc(tag)}`);
  const section = h("section", { class: "panel" }, h("h1", {}, `#${hashtag.tag}`), h("p", { class: "stats" }, `${count(hashtag.video_count)} videos`));
  main.replaceChildren(section);
  await pagedGrid(section, `/hashtags/${enc(hashtag.tag)}/videos`);
}

export function searchPage(main, params) {
  const q = params.get("q") || "";
  const type = params.get("type") || "users";
  const results = h("div", { class: "results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "search", role: "search" },
    h("label", { for: "search-q", class: "visually-hidden" }, "Search"),
    h("input", { id: "search-q", name: "q", type: "search", value: q, placeholder: "Search people, videos, #hashtags", required: true, maxlength: 100 }),
    h("button", { type: "submit", class: "primary" }, "Search"),
  );
  const tabs = h(
    "nav",
    { class: "tabs", "aria-label": "Result type" },
    ["users", "videos", "hashtags"].map((kind) =>
      h("a", { href: `#/search?q=${enc(q)}&type=${kind}`, "aria-current": kind === type ? "page" : undefined }, kind[0].toUpperCase() + kind.slice(1)),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/search?q=${enc(form.q.value.trim())}&type=${type}`;
  });
  main.replaceChildren(h("section", { class: "panel" }, form, tabs, results));
  if (!q) {
    form.q.focus();
    return;
  }
  api("/search", { query: { q, type, limit: 30 } })
    .then((page) => {
      if (!page.items.length) return results.replaceChildren(h("p", { class: "empty" }, `Nothing found for “${q}”.`));
      if (type === "videos") return results.replaceChildren(videoGrid(page.items));
      results.replaceChildren(
        h(
          "ul",
          { class: "list" },
          page.items.map((item) =>
            type === "users"
              ? h("li", {}, h("a", { href: `#/u/${enc(item.username)}` }, h("strong", {}, item.display_name || item.username), ` @${item.username}`), h("span", { class: "muted" }, `${count(item.followers_count)} followers`))
              : h("li", {}, h("a", { href: `#/tag/${enc(item.tag)}` }, h("strong", {}, `#${item.tag}`)), h("span", { class: "muted" }, `${count(item.video_count)} videos`)),
          ),
        ),
      );
    })
    .catch((error) => results.replaceChildren(h("p", { class: "empty" }, error.message)));
}

const KIND_TEXT = { like: "liked your video", comment: "commented", follow: "started following you", mention: "mentioned you" };

function notificationItem(item) {
  const names = item.actors.map((actor) => `@${actor.username}`);
  const others = item.actor_count - names.length;
  const who = others > 0 ? `${names.join(", ")} and ${others} other${others > 1 ? "s" : ""}` : names.join(", ");
  const target = item.video ? `#/video/${enc(item.video.id)}` : item.actors[0] ? `#/u/${enc(item.actors[0].username)}` : "#/inbox";
  return h(
    "li",
    { class: `notification ${item.read ? "" : "unread"}`, dataset: { kind: item.kind } },
    h("a", { href: target }, h("span", { class: "who" }, who), ` ${KIND_TEXT[item.kind] || item.kind}`, item.comment ? h("q", {}, item.comment.text) : null, " ", h("time", { datetime: item.created_at }, ago(item.created_at))),
    item.video?.poster_url ? h("img", { src: item.video.poster_url, alt: "" }) : null,
  );
}

export async function inboxPage(main, onRead) {
  const list = h("ol", { class: "list notifications" });
  const more = h("button", { type: "button", class: "secondary more", hidden: true }, "Load more");
  main.replaceChildren(h("section", { class: "panel" }, h("h1", {}, "Inbox"), list, more));
  let cursor = null;
  let newest = null;
  const load = async () => {
    const page = await api("/notifications", { query: { cursor, limit: 20 } });
    newest ??= page.items[0]?.id ?? null;
    list.append(...page.items.map(notificationItem));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) list.replaceChildren(h("li", { class: "empty" }, "No notifications yet."));
  };
  more.onclick = () => load().catch((error) => toast(error.message));
  await load();
  if (newest !== null) {
    await api("/notifications/read", { method: "POST", body: { up_to: newest } });
    onRead();
  }
}

export function uploadPage(main) {
  const progress = h("progress", { max: 100, value: 0, id: "upload-progress", "aria-label": "Upload progress" });
  const sent = h("p", { class: "upload-bytes" });
  const status = h("p", { class: "upload-status", role: "status", "aria-live": "polite" });
  const megabytes = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;
  const form = h(
    "form",
    { class: "panel upload" },
    h("h1", {}, "Upload a video"),
    h("div", { class: "field" }, h("label", { for: "f-file" }, "Video file (MP4, MOV or WebM, up to 60 s)"), h("input", { id: "f-file", name: "file", type: "file", accept: "video/mp4,video/quicktime,video/webm", required: true })),
    h("div", { class: "field" }, h("label", { for: "f-caption" }, "Caption"), h("textarea", { id: "f-caption", name: "caption", rows: 3, maxlength: 2200, placeholder: "Describe your video… #hashtags @mentions" })),
    h("div", { class: "progress-wrap", hidden: true }, progress, sent, status),
    h("p", { class: "form-error", role: "alert" }),
    h("button", { type: "submit", class: "primary" }, "Post"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.file.files[0];
    if (!file) {
      form.querySelector(".form-error").textContent = "Choose a video file first.";
      return;
    }
    form.querySelector(".form-error").textContent = "";
    form.querySelector("button[type=submit]").disabled = true;
    form.querySelector(".progress-wrap").hidden = false;
    form.dataset.stage = "creating";
    try {
      const video = await uploadVideo(file, form.caption.value.trim(), ({ stage, progress: fraction, message }) => {
        form.dataset.stage = stage;
        if (stage === "uploading") {
          progress.value = Math.round(fraction * 100);
          sent.textContent = `${megabytes(fraction * file.size)} of ${megabytes(file.size)} sent (${Math.round(fraction * 100)}%)`;
          status.textContent = "Uploading…";
        } else if (stage === "processing") {
          progress.removeAttribute("value"); // indeterminate while the server works
          status.textContent = "Processing… your video will be ready in a moment.";
        } else if (stage === "failed") {
          status.textContent = `Processing failed: ${message}`;
        } else if (stage === "ready") {
          progress.value = 100;
          status.textContent = "Ready! Your followers will see it in their feed.";
        } else {
          status.textContent = "Preparing upload…";
        }
      });
      if (video.status === "ready") {
        status.append(" ", h("a", { href: `#/video/${enc(video.id)}` }, "Watch it"));
      }
    } catch (error) {
      form.dataset.stage = "failed";
      form.querySelector(".form-error").textContent = error.fields?.size_bytes?.[0] || error.fields?.content_type?.[0] || error.message;
    } finally {
      form.querySelector("button[type=submit]").disabled = false;
    }
  });
  main.replaceChildren(form);
}
