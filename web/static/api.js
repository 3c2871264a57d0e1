// The API client: GraphQL over HTTP (POST /graphql) and the graphql-transport-ws
// protocol for subscriptions. The token is passed in by the caller; it travels only in
// the Authorization header and in connection_init, never in a URL.

/** An error the API (or the network) answered, with the contract's extensions.code. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

const endpoint = '/graphql';

/**
 * Sends one query or mutation and returns its data; throws ApiError on any error.
 * @param {string} query
 * @param {object} [variables]
 * @param {string} [token]
 */
export async function request(query, variables, token) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: variables || {} }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('Cannot reach the server. Check your connection and try again.', 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered HTTP ${res.status}. Try again.`, 'INTERNAL');
  }
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    const e = body.errors[0];
    throw new ApiError(e.message || 'The request failed.', (e.extensions && e.extensions.code) || 'INTERNAL');
  }
  if (!res.ok || !body.data) {
    throw new ApiError(`The server answered HTTP ${res.status}. Try again.`, 'INTERNAL');
  }
  return body.data;
}

const PROTOCOL = 'graphql-transport-ws';
const ACK_TIMEOUT_MS = 10000;
const MAX_BACKOFF_MS = 30000;

/**
 * A graphql-transport-ws client that keeps one socket open, re-sends its
 * subscriptions after every reconnect and backs off exponentially between tries.
 *
 * callbacks: onState(state) with 'connecting' | 'live' | 'reconnecting' | 'offline';
 * onAuthError() when the server refuses the token (close code 4403);
 * onReconnected() after a reconnect, when events may have been missed.
 */
export class LiveClient {
  #token;
  #callbacks;
  #ws = null;
  #acked = false;
  #everAcked = false;
  #stopped = true;
  #retries = 0;
  #retryTimer = 0;
  #nextId = 1;
  /** @type {Map<string, {query: string, variables: object, sink: object}>} */
  #subs = new Map();

  constructor(token, callbacks = {}) {
    this.#token = token;
    this.#callbacks = callbacks;
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#subs.clear();
    const ws = this.#ws;
    this.#ws = null;
    this.#acked = false;
    if (ws) ws.close(1000, 'Normal Closure');
  }

  /**
   * Subscribes until the returned function is called; survives reconnects.
   * sink: { next(payload), error(errors) }.
   */
  subscribe(query, variables, sink) {
    const id = String(this.#nextId++);
    this.#subs.set(id, { query, variables: variables || {}, sink });
    if (this.#acked) this.#sendSubscribe(id);
    return () => {
      if (this.#subs.delete(id) && this.#acked) this.#send({ id, type: 'complete' });
    };
  }

  #state(s) {
    if (this.#callbacks.onState) this.#callbacks.onState(s);
  }

  #connect() {
    const url = new URL(endpoint, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, PROTOCOL);
    this.#ws = ws;
    this.#acked = false;
    this.#state(this.#everAcked ? 'reconnecting' : 'connecting');
    let ackTimer = 0;

    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${this.#token}` } }));
      ackTimer = setTimeout(() => ws.close(4408, 'Connection initialisation timeout'), ACK_TIMEOUT_MS);
    });

    ws.addEventListener('message', (ev) => {
      if (this.#ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      switch (msg.type) {
        case 'connection_ack': {
          clearTimeout(ackTimer);
          this.#acked = true;
          this.#retries = 0;
          const again = this.#everAcked;
          this.#everAcked = true;
          for (const id of this.#subs.keys()) this.#sendSubscribe(id);
          this.#state('live');
          if (again && this.#callbacks.onReconnected) this.#callbacks.onReconnected();
          break;
        }
        case 'ping':
          this.#send({ type: 'pong' });
          break;
        case 'next': {
          const s = this.#subs.get(msg.id);
          if (s && s.sink.next) s.sink.next(msg.payload);
          break;
        }
        case 'error': {
          const s = this.#subs.get(msg.id);
          this.#subs.delete(msg.id);
          if (s && s.sink.error) s.sink.error(msg.payload);
          break;
        }
        case 'complete': {
          // The server ended a subscription we still want: ask again under a new id.
          const s = this.#subs.get(msg.id);
          if (s) {
            this.#subs.delete(msg.id);
            setTimeout(() => {
              if (!this.#stopped) this.subscribe(s.query, s.variables, s.sink);
            }, 1000);
          }
          break;
        }
        default:
          break;
      }
    });

    ws.addEventListener('close', (ev) => {
      clearTimeout(ackTimer);
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#acked = false;
      if (this.#stopped) return;
      if (ev.code === 4403 || ev.code === 4401) {
        this.#stopped = true;
        this.#state('offline');
        if (this.#callbacks.onAuthError) this.#callbacks.onAuthError();
        return;
      }
      const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.#retries);
      this.#retries++;
      this.#state('reconnecting');
      this.#retryTimer = setTimeout(() => this.#connect(), base / 2 + Math.random() * (base / 2));
    });
  }

  #sendSubscribe(id) {
    const s = this.#subs.get(id);
    if (s) this.#send({ id, type: 'subscribe', payload: { query: s.query, variables: s.variables } });
  }

  #send(msg) {
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg));
  }
}
