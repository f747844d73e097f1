// The public API (/api/v1, token authentication, one error shape), and the signed-in token.
const BASE = "/api/v1";
const TOKEN_KEY = "tiktok.token";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `Request failed (${status})`);
    this.status = status;
    this.code = error.code || "error";
    this.fields = error.fields || {};
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  me: null,
};

export async function api(path, { method = "GET", body, query, keepalive = false } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    keepalive,
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && session.token) {
      session.token = null;
      session.me = null;
      window.dispatchEvent(new Event("signed-out"));
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

export const enc = encodeURIComponent;

export async function signIn(username, password) {
  const { token } = await api("/auth/login", { method: "POST", body: { username, password } });
  session.token = token;
  session.me = await api("/me");
  return session.me;
}

export async function signUp(username, password, email) {
  await api("/auth/register", { method: "POST", body: email ? { username, password, email } : { username, password } });
  return signIn(username, password);
}

export async function signOut() {
  // Forget the token first, so no request started from here on carries a revoked one.
  const token = session.token;
  session.token = null;
  session.me = null;
  if (!token) return;
  const response = await fetch(`${BASE}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok && response.status !== 401) throw new ApiError(response.status, await response.json().catch(() => null));
}

export async function loadMe() {
  if (!session.token) return null;
  try {
    session.me = await api("/me");
  } catch (error) {
    if (error.status !== 401) throw error;
  }
  return session.me;
}
