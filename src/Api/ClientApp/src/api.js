// Every call carries the key from sessionStorage (gone when the tab closes); a 401 signs the user out.
const KEY = 'tuningservice.apiKey';

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  signIn(key) { sessionStorage.setItem(KEY, key); },
  signOut() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

export function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${session.key}`, ...extra };
}

async function send(path, { method = 'GET', json, form, signal } = {}) {
  const headers = authHeaders();
  let body;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  if (form) body = form;
  const response = await fetch(path, { method, headers, body, signal });
  if (response.status === 401) {
    session.signOut();
    window.dispatchEvent(new Event('signed-out'));
  }
  return response;
}

export async function api(path, options) {
  const response = await send(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Downloads a file that needs the Authorization header: fetched as a blob, saved through an object URL. */
export async function download(path, filename) {
  const response = await send(path);
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Whether a route exists: a 404 that is not a resource's "not found" means the server has no such route. */
export async function routeExists(path, method = 'POST') {
  const response = await send(path, { method, json: {} });
  return response.status !== 404 && response.status !== 405;
}

export const terminal = new Set(['succeeded', 'failed', 'cancelled']);
