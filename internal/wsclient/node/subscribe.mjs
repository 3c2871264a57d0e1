// Subscribes to syncEvents with the npm graphql-ws client (what web frontends use) and
// prints one JSON line per thing that happens: {"kind":"connected"}, {"kind":"next",
// "payload":…}, {"kind":"error",…}, {"kind":"complete"}, {"kind":"closed","code":…}.
// It exits after COUNT events, or when the server ends the subscription.
//
// Usage: node subscribe.mjs <ws-url> <token> [count] [integrationId]
// Run by graph/subscription_test.go (npm ci in this folder first).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, countArg = '2', integrationId] = process.argv.slice(2);
if (!url) {
  console.error('usage: node subscribe.mjs <ws-url> <token> [count] [integrationId]');
  process.exit(2);
}
const count = Number(countArg);
const print = (o) => console.log(JSON.stringify(o));

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  retryAttempts: 0, // report the first close instead of reconnecting
  on: {
    connected: () => print({ kind: 'connected' }),
    closed: (e) => print({ kind: 'closed', code: e?.code, reason: e?.reason }),
  },
});

let received = 0;
const done = () => client.dispose();
client.subscribe(
  {
    query: `subscription($id: ID) { syncEvents(integrationId: $id) {
      type at integrationId integrationName vendor circuitState
      syncLog { id status trigger recordsProcessed }
    } }`,
    variables: integrationId ? { id: integrationId } : {},
  },
  {
    next: (payload) => {
      print({ kind: 'next', payload });
      if (++received >= count) done();
    },
    error: (err) => {
      const e = Array.isArray(err) ? err : { code: err?.code, reason: err?.reason, message: err?.message };
      print({ kind: 'error', error: e });
      process.exitCode = 1;
      done();
    },
    complete: () => {
      print({ kind: 'complete' });
      done();
    },
  },
);
