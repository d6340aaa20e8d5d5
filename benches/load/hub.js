// A plain Node `http` hub for the load benchmark (`cargo run --release -p
// benches --bin load`): the peer a team would write in an afternoon.
//
//   GET  /events?channel=NAME    text/event-stream, every event of NAME
//   POST /publish?channel=NAME   the body is the data; answers {"id","subscribers"}
//   GET  /health                 {"subscribers"}
//
// Same wire format as `sse serve`: `id: N` then one `data:` line per line of
// the body. No history, no queue limit, no keep-alive comments: a slow
// subscriber's events pile up in Node's socket buffer. Node 18+.
// Usage: node hub.js [port]   (0 or none: a free port; the first line of
// stdout says which: `node hub: listening on http://127.0.0.1:PORT`).
'use strict';

const http = require('http');

const channels = new Map(); // name -> Set of responses
let lastId = 0;
let subscribers = 0;

function channelOf(url) {
  return url.searchParams.get('channel') || 'default';
}

function subscribe(req, res, name) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  // Send the head now, as the other hubs do, so that a client knows it is in.
  res.flushHeaders();
  let set = channels.get(name);
  if (!set) {
    set = new Set();
    channels.set(name, set);
  }
  set.add(res);
  subscribers += 1;
  req.socket.setNoDelay(true);
  res.on('close', () => {
    subscribers -= 1;
    set.delete(res);
    if (set.size === 0 && channels.get(name) === set) channels.delete(name);
  });
}

function frame(id, data) {
  let out = 'id: ' + id + '\n';
  for (const line of data.split(/\r\n|\r|\n/)) out += 'data: ' + line + '\n';
  return out + '\n';
}

function publish(req, res, name) {
  const parts = [];
  req.on('data', (chunk) => parts.push(chunk));
  req.on('end', () => {
    lastId += 1;
    const set = channels.get(name);
    const count = set ? set.size : 0;
    if (count > 0) {
      // Encoded once, written to every subscriber.
      const bytes = Buffer.from(frame(lastId, Buffer.concat(parts).toString('utf8')));
      for (const sub of set) sub.write(bytes);
    }
    const body = JSON.stringify({ id: String(lastId), subscribers: count });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}

const server = http.createServer({ noDelay: true }, (req, res) => {
  const url = new URL(req.url, 'http://hub');
  if (req.method === 'GET' && url.pathname === '/events') {
    subscribe(req, res, channelOf(url));
  } else if (req.method === 'POST' && url.pathname === '/publish') {
    publish(req, res, channelOf(url));
  } else if (req.method === 'GET' && url.pathname === '/health') {
    const body = JSON.stringify({ subscribers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  } else {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  }
});
// Streams live as long as their clients; publishers keep their connections.
server.requestTimeout = 0;
server.keepAliveTimeout = 60000;
server.headersTimeout = 60000;
server.maxHeadersCount = 100;

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log('node hub: listening on http://127.0.0.1:' + server.address().port);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
