// Runs graphql-http's serverAudits (the GraphQL-over-HTTP specification's audits, by
// the GraphQL Foundation) against the URL given as the first argument and prints each
// result as one JSON line: {"id","name","status","reason"?,"body"?}.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
for (const audit of serverAudits({ url })) {
  const r = await audit.fn();
  const line = { id: r.id, name: r.name, status: r.status };
  if (r.status !== 'ok') {
    line.reason = r.reason;
    try {
      line.httpStatus = r.response.status;
      line.body = await r.response.text();
    } catch {
      // the body was read already
    }
  }
  console.log(JSON.stringify(line));
}
