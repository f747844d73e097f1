// A feed card (the clip, its caption and the action rail) and the comments sheet.
import { api, enc, session } from "./api.js";
import { ago, count, h, richText, toast } from "./dom.js";

function requireSignIn() {
  if (session.token) return true;
  location.hash = "#/login";
  return false;
}

async function toggleRelation(button, path, on, { onChange } = {}) {
  if (!requireSignIn()) return;
  button.disabled = true;
  try {
    await api(path, { method: on ? "PUT" : "DELETE" });
    button.setAttribute("aria-pressed", String(on));
    onChange?.(on);
  } catch (error) {
    toast(error.message);
  } finally {
    button.disabled = false;
  }
}

function actionButton({ name, label, pressed, value, onclick }) {
  const number = h("span", { class: "count" }, count(value));
  const button = h(
    "button",
    { type: "button", class: `action ${name}`, "aria-label": label, "aria-pressed": String(Boolean(pressed)), onclick },
    h("span", { class: "icon", "aria-hidden": "true" }),
    number,
  );
  button.number = number;
  return button;
}

export function renderCard(card, scroller) {
  const viewer = card.viewer || {};
  const counts = { ...card.counts };
  const video = h("video", {
    class: "clip",
    playsinline: true,
    loop: true,
    muted: true,
    preload: "none",
    poster: card.poster_url || undefined,
    "aria-label": `Video by @${card.creator.username}: ${card.caption}`,
    dataset: { videoId: card.id },
  });

  const like = actionButton({
    name: "like",
    label: "Like",
    pressed: viewer.liked,
    value: counts.likes,
    onclick: () => {
      const on = like.getAttribute("aria-pressed") !== "true";
      toggleRelation(like, `/videos/${enc(card.id)}/like`, on, {
        onChange: () => {
          counts.likes += on ? 1 : -1;
          like.number.textContent = count(counts.likes);
        },
      });
    },
  });
  const favorite = actionButton({
    name: "favorite",
    label: "Favorite",
    pressed: viewer.favorited,
    value: counts.favorites,
    onclick: () => {
      const on = favorite.getAttribute("aria-pressed") !== "true";
      toggleRelation(favorite, `/videos/${enc(card.id)}/favorite`, on, {
        onChange: () => {
          counts.favorites += on ? 1 : -1;
          favorite.number.textContent = count(counts.favorites);
        },
      });
    },
  });
  const comments = actionButton({
    name: "comments",
    label: "Comments",
    pressed: false,
    value: counts.comments,
    onclick: () =>
      openComments(card, (delta) => {
        counts.comments += delta;
        comments.number.textContent = count(counts.comments);
      }),
  });
  comments.removeAttribute("aria-pressed");
  comments.setAttribute("aria-haspopup", "dialog");

  const own = session.me && session.me.username === card.creator.username;
  const follow = own
    ? null
    : h(
        "button",
        {
          type: "button",
          class: "follow",
          "aria-pressed": String(Boolean(viewer.following)),
          "aria-label": `Follow @${card.creator.username}`,
          onclick: () => {
            const on = follow.getAttribute("aria-pressed") !== "true";
            toggleRelation(follow, `/users/${enc(card.creator.username)}/follow`, on, {
              onChange: () => toast(on ? `Following @${card.creator.username}` : `Unfollowed @${card.creator.username}`),
            });
          },
        },
        h("span", { "aria-hidden": "true" }),
      );
  const sound = h("button", {
    type: "button",
    class: "action sound",
    "aria-label": "Sound",
    "aria-pressed": String(!scroller.muted),
    onclick: () => {
      scroller.setMuted(!scroller.muted);
      for (const button of document.querySelectorAll(".action.sound")) {
        button.setAttribute("aria-pressed", String(!scroller.muted));
      }
    },
  }, h("span", { class: "icon", "aria-hidden": "true" }));

  const initial = (card.creator.display_name || card.creator.username).slice(0, 1).toUpperCase();
  const avatar = card.creator.avatar_url
    ? h("img", { src: card.creator.avatar_url, alt: "" })
    : h("span", { class: "initial", "aria-hidden": "true" }, initial);

  const reasons = card.rank && card.rank.reasons && card.rank.reasons.length
    ? h("p", { class: "reasons" }, card.rank.reasons.join(" · "))
    : null;

  return h(
    "article",
    { class: "card", "aria-label": `@${card.creator.username}`, dataset: { videoId: card.id } },
    video,
    h("button", {
      type: "button",
      class: "tap",
      "aria-label": "Play or pause",
      onclick: () => scroller.toggle(video),
    }),
    h(
      "div",
      { class: "meta" },
      h("a", { class: "creator", href: `#/u/${enc(card.creator.username)}` }, `@${card.creator.username}`),
      h("p", { class: "caption" }, richText(card.caption || "")),
      reasons,
    ),
    h(
      "div",
      { class: "rail" },
      h("div", { class: "avatar-wrap" }, h("a", { class: "avatar", href: `#/u/${enc(card.creator.username)}`, "aria-label": `@${card.creator.username}'s profile` }, avatar), follow),
      like,
      comments,
      favorite,
      sound,
    ),
  );
}

// --- Comments sheet ----------------------------------------------------------------------

function commentItem(comment, onDelete) {
  const mine = session.me && session.me.username === comment.author.username;
  return h(
    "li",
    { class: "comment", dataset: { commentId: comment.id } },
    h(
      "div",
      {},
      h("a", { class: "author", href: `#/u/${enc(comment.author.username)}` }, `@${comment.author.username}`),
      " ",
      h("time", { datetime: comment.created_at }, ago(comment.created_at)),
    ),
    h("p", {}, richText(comment.text)),
    mine ? h("button", { type: "button", class: "link delete", onclick: () => onDelete(comment) }, "Delete") : null,
  );
}

export async function openComments(card, onCount) {
  const dialog = document.getElementById("comments");
  const list = dialog.querySelector("ol");
  const more = dialog.querySelector(".more");
  const form = dialog.querySelector("form.add-comment");
  const input = form.querySelector("textarea");
  const status = dialog.querySelector(".status");
  let cursor = null;
  list.replaceChildren();
  status.textContent = "Loading…";

  const remove = async (comment) => {
    try {
      await api(`/comments/${comment.id}`, { method: "DELETE" });
      list.querySelector(`[data-comment-id="${comment.id}"]`)?.remove();
      onCount(-1);
    } catch (error) {
      toast(error.message);
    }
  };
  const load = async () => {
    const page = await api(`/videos/${enc(card.id)}/comments`, { query: { cursor, limit: 20 } });
    list.append(...page.items.map((comment) => commentItem(comment, remove)));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status.textContent = list.children.length ? "" : "No comments yet. Say something nice.";
  };
  more.onclick = () => load().catch((error) => toast(error.message));
  form.onsubmit = async (event) => {
    event.preventDefault();
    if (!requireSignIn()) return dialog.close();
    const text = input.value.trim();
    if (!text) return;
    form.querySelector("button").disabled = true;
    try {
      const comment = await api(`/videos/${enc(card.id)}/comments`, { method: "POST", body: { text } });
      list.prepend(commentItem(comment, remove));
      status.textContent = "";
      input.value = "";
      onCount(1);
    } catch (error) {
      toast(error.fields?.text?.[0] || error.message);
    } finally {
      form.querySelector("button").disabled = false;
    }
  };
  form.hidden = !session.token;
  dialog.querySelector(".signin-hint").hidden = Boolean(session.token);
  dialog.showModal();
  (session.token ? input : dialog.querySelector(".close")).focus();
  try {
    await load();
  } catch (error) {
    status.textContent = error.message;
  }
}
