// ws-fanout.js — make bench's Node reference: a fan-out server on the `ws`
// package (8.x), doing what wsbridge-serve does for the figures it is
// compared on: greets each client with connection_established, takes JSON
// objects with a string "type", stamps seq and forwards them to every client
// subscribed with ?type=T (exact match; a client with no type subscribes to
// nothing, like wsb-load's publisher). No compression, as wsbridge by default.
//   node ws-fanout.js PORT   (0: any free port; prints "listening on HOST:PORT" on stderr)
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0),
	path: '/ws', perMessageDeflate: false, maxPayload: 1 << 20 });
const byType = new Map();	// type -> Set of sockets
let seq = 0;

wss.on('listening', () => console.error(`listening on 127.0.0.1:${wss.address().port}`));
wss.on('connection', (ws, req) => {
	const type = new URL(req.url, 'ws://x').searchParams.get('type');
	if (type) {
		if (!byType.has(type)) byType.set(type, new Set());
		byType.get(type).add(ws);
		ws.on('close', () => byType.get(type).delete(ws));
	}
	ws.send(JSON.stringify({ type: 'connection_established', timestamp: new Date().toISOString() }));
	ws.on('message', (data) => {
		let m;
		try { m = JSON.parse(data); } catch (e) { return; }
		if (!m || typeof m.type !== 'string') return;
		const out = data.toString().replace(/}\s*$/, `,"seq":${++seq}}`);
		for (const s of byType.get(m.type) || []) s.send(out);
	});
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
