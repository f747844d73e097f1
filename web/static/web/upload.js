// Upload: create the video, PUT the bytes straight to the store with the presigned
// request (XMLHttpRequest for its progress events), complete, then poll until ready.
import { api, enc } from "./api.js";

const POLL_MS = 1500;

function putToStore(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(upload.method || "PUT", upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) {
      if (name.toLowerCase() !== "content-length" && name.toLowerCase() !== "host") request.setRequestHeader(name, value);
    }
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(new Error(`The store refused the upload (${request.status}).`));
    });
    request.addEventListener("error", () => reject(new Error("The upload could not reach the store.")));
    request.addEventListener("abort", () => reject(new Error("Upload cancelled.")));
    request.send(file);
  });
}

/** Runs the whole upload; `report({stage, progress, video, message})` after each step. */
export async function uploadVideo(file, caption, report) {
  report({ stage: "creating" });
  const created = await api("/videos", {
    method: "POST",
    body: { caption, content_type: file.type || "video/mp4", size_bytes: file.size },
  });
  report({ stage: "uploading", progress: 0 });
  await putToStore(created.upload, file, (progress) => report({ stage: "uploading", progress }));
  report({ stage: "uploading", progress: 1 });
  let video = await api(`/videos/${enc(created.id)}/complete`, { method: "POST" });
  while (video.status === "processing" || video.status === "awaiting_upload") {
    report({ stage: "processing", video });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    video = await api(`/videos/${enc(created.id)}`);
  }
  if (video.status === "failed") {
    report({ stage: "failed", video, message: video.failure_reason || "Processing failed." });
  } else {
    report({ stage: "ready", video });
  }
  return video;
}
