/* Inline HLS players in the report queues: hls.js attaches to each <video data-hls-src>
   when it scrolls into view (a page of 100 rows must not fetch 100 videos at once).
   Browsers that play HLS natively get the URL directly. A fatal player error is shown
   on the element (data-player-error) rather than failing silently. */
(function () {
  "use strict";

  function fail(video, message) {
    video.setAttribute("data-player-error", message);
    video.title = "Cannot play: " + message;
  }

  function attach(video) {
    var source = video.getAttribute("data-hls-src");
    if (!source || video.hasAttribute("data-player")) {
      return;
    }
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({ capLevelToPlayerSize: true, maxBufferLength: 10 });
      hls.on(window.Hls.Events.ERROR, function (event, data) {
        if (data.fatal) {
          fail(video, data.type + ": " + data.details);
          hls.destroy();
        }
      });
      hls.loadSource(source);
      hls.attachMedia(video);
      video.setAttribute("data-player", "hls.js");
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = source;
      video.setAttribute("data-player", "native");
    } else {
      fail(video, "this browser cannot play HLS");
    }
  }

  function start() {
    var videos = document.querySelectorAll("video[data-hls-src]");
    if (!("IntersectionObserver" in window)) {
      videos.forEach(attach);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          attach(entry.target);
        }
      });
    }, { rootMargin: "200px" });
    videos.forEach(function (video) { observer.observe(video); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
