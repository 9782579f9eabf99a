// wsbridge.js: the browser client for wsbridge-serve, a dependency-free ES
// module served by the broker at /wsbridge.js (see wsbridge(7), THE CONSOLE,
// and docs/protocol.md for what it relies on).
//
//   import { connect } from "/wsbridge.js";
//   const c = connect("/ws", {
//     types: ["order", "tick*"],          // type= globs; none: every type
//     onMessage: (m) => render(m),         // data messages, in seq order, no duplicates
//     onGap: (g) => warn(g),               // {"type":"gap","from","to","reason","epoch"}
//     onState: (state, info) => show(state),
//   });
//   c.publish("order", { id: 1 });         // queued while disconnected
//
// It reconnects by itself (exponential backoff with jitter) and resumes
// where it was with since=SEQ&epoch=E, so nothing the broker still holds is
// missed or shown twice; what it no longer holds arrives as a gap record.
// Liveness: no greeting within connectTimeout, or nothing at all from the
// broker for two pingIntervals (a ping goes out every interval; its pong
// gives the round trip), and it drops the socket and reconnects. Close
// codes after which a retry cannot help (1003, 1008, 1009) stop it in state
// "failed".
// Seqs are JavaScript numbers: exact up to 2^53.

const CONTROL = new Set(["connection_established", "pong", "subscribed", "unsubscribed", "error", "ack",
	"gap", "hello", "resume", "snapshot", "ping", "subscribe", "unsubscribe"]);
const FINAL = new Set([1003, 1008, 1009]);

const DEFAULTS = {
	types: [], filter: "", since: null, epoch: "", token: "", echo: false, snapshot: false,
	pingInterval: 15000,	// ms between pings; two without any answer: reconnect
	connectTimeout: 10000,	// ms from opening to the greeting (a frozen broker or proxy), then retry
	minDelay: 250, maxDelay: 30000,	// reconnect backoff, ms
	queueLimit: 10000,	// publish() calls kept while disconnected
	onMessage() {}, onGap() {}, onState() {}, onControl() {}, onPong() {},
};

// A ws:// or wss:// URL for url: "/ws", "ws://h:p/ws", "http://h:p/ws" or
// "" (this page's own broker, /ws).
export function wsUrl(url, base = globalThis.location) {
	const u = new URL(url || "/ws", base && base.href);
	if (u.protocol === "http:") u.protocol = "ws:";
	if (u.protocol === "https:") u.protocol = "wss:";
	return u;
}

export function connect(url, opts = {}) {
	return new Client(url, opts);
}

const list = (t) => (Array.isArray(t) ? t : t ? [t] : []).filter((x) => x !== "");

class Client {
	constructor(url, opts) {
		this.url = url;
		this.o = { ...DEFAULTS, ...opts };
		this.types = list(this.o.types);
		this.filter = this.o.filter || "";
		// Where we stand: every message of epoch up to seq was delivered or
		// reported as a gap; printed is the last one delivered (lib/resume.h).
		this.pos = { epoch: this.o.epoch || "", seq: 0, printed: 0, have: false };
		if (this.o.since !== null && this.o.since !== undefined && this.o.since !== "") {
			this.pos.seq = Number(this.o.since);
			this.pos.have = true;
		}
		this.queue = [];
		this.state = "idle";
		this.attempt = 0;
		this.rtt = null;
		this.ws = null;
		this.stopped = false;
		this._open();
	}

	get position() {
		return this.pos.have ? { epoch: this.pos.epoch, seq: this.pos.seq } : null;
	}

	// Publishes {type, data} (or a whole message object). Sent at once when
	// connected, else queued and sent after the next greeting, in order.
	// Returns false if the queue is full (nothing is dropped in silence).
	// Without acknowledgements, a message sent just before a connection is
	// lost may be lost with it.
	publish(type, data) {
		const m = typeof type === "string" ? (data === undefined ? { type } : { type, data }) : type;
		if (!m || typeof m.type !== "string" || !m.type) throw new TypeError("publish: a message needs a type");
		const text = JSON.stringify(m);
		if (this.state === "open" && this.ws && this.ws.readyState === 1) {
			this.ws.send(text);
			return true;
		}
		if (this.queue.length >= this.o.queueLimit) return false;
		this.queue.push(text);
		return true;
	}

	// New type globs and/or filter: reconnects at once, from the same position.
	update({ types, filter } = {}) {
		if (types !== undefined) this.types = list(types);
		if (filter !== undefined) this.filter = filter || "";
		this.stopped = false;
		this.attempt = 0;
		this._drop();
		this._open();
	}

	close() {
		this.stopped = true;
		this._drop();
		this._set("closed", {});
	}

	_query() {
		const u = wsUrl(this.url);
		for (const t of this.types) u.searchParams.append("type", t);
		if (this.filter) u.searchParams.set("filter", this.filter);
		if (this.o.echo) u.searchParams.set("echo", "1");
		if (this.o.snapshot && !this.pos.have) u.searchParams.set("snapshot", "1");
		if (this.pos.have) {
			u.searchParams.set("since", String(this.pos.seq));
			if (this.pos.epoch) u.searchParams.set("epoch", this.pos.epoch);
		}
		if (this.o.token) u.searchParams.set("token", this.o.token);
		return u.href;
	}

	_set(state, info) {
		this.state = state;
		this.o.onState(state, info);
	}

	_open() {
		clearTimeout(this.retryTimer);
		let ws;
		try {
			ws = new WebSocket(this._query());
		} catch (e) {
			return this._lost(1006, String(e.message || e), false);
		}
		this.ws = ws;
		this.opened = false;
		this._set("connecting", { attempt: this.attempt });
		// A socket the broker accepts but never answers would stay CONNECTING
		// for minutes: the browser has no handshake timeout of its own.
		this.greetTimer = setTimeout(() => this._lost(1006, "no greeting", this.opened), this.o.connectTimeout);
		ws.onopen = () => {
			this.opened = true;
			this.lastRx = Date.now();
			this.pingTimer = setInterval(() => this._ping(), this.o.pingInterval);
		};
		ws.onmessage = (ev) => this._recv(ev.data);
		ws.onclose = (ev) => this._lost(ev.code, ev.reason, this.opened);
		ws.onerror = () => {};	// onclose follows, with the code
	}

	// Forgets the socket without waiting for its close handshake.
	_drop() {
		clearInterval(this.pingTimer);
		clearTimeout(this.retryTimer);
		clearTimeout(this.greetTimer);
		const ws = this.ws;
		this.ws = null;
		if (!ws) return;
		ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
		try { ws.close(1000); } catch (e) { /* already closing */ }
	}

	_lost(code, reason, opened) {
		this._drop();
		if (this.stopped) return;
		if (FINAL.has(code)) return this._set("failed", { code, reason });
		const cap = Math.min(this.o.maxDelay, this.o.minDelay * 2 ** Math.min(this.attempt, 20));
		const delay = Math.round(cap / 2 + Math.random() * cap / 2);	// jitter: a restart is not met by all at once
		this.attempt++;
		this._set("reconnecting", { code, reason, delay, attempt: this.attempt, opened });
		this.retryTimer = setTimeout(() => this._open(), delay);
	}

	_ping() {
		if (!this.ws) return;
		if (Date.now() - this.lastRx > 2 * this.o.pingInterval) return this._lost(1006, "no answer to ping", true);
		this.ws.send(JSON.stringify({ type: "ping", data: { wsbridge_js: performance.now() } }));
	}

	_recv(text) {
		let m;
		if (typeof text !== "string") return;	// the broker sends text only
		this.lastRx = Date.now();
		try { m = JSON.parse(text); } catch (e) { return; }
		if (!m || typeof m !== "object" || Array.isArray(m)) return;
		if (m.type === "connection_established") return this._greeting(m);
		if (m.type === "pong" && m.data && typeof m.data.wsbridge_js === "number") {
			this.rtt = performance.now() - m.data.wsbridge_js;
			return this.o.onPong(this.rtt);
		}
		if (m.type === "gap") {
			this._gap(m);
			return this.o.onGap(m);
		}
		// An "error" with a seq is an application's message; the broker's own
		// replies carry none.
		if ((CONTROL.has(m.type) && m.type !== "error") || typeof m.seq !== "number") return this.o.onControl(m);
		if (this.pos.printed && m.seq <= this.pos.printed) return;	// seen before the resume seam
		this.pos.printed = m.seq;
		if (!this.pos.have || m.seq > this.pos.seq) this.pos.seq = m.seq;
		this.pos.have = true;
		this.o.onMessage(m, text);
	}

	// A server without epochs cannot say whether its numbering is ours: start
	// afresh. An unknown epoch is adopted; a different one is left for the
	// gap record the server sends when we resume with the old one.
	_greeting(m) {
		const p = this.pos;
		if (!m.epoch) {
			Object.assign(p, { epoch: "", seq: m.seq || 0, printed: 0, have: typeof m.seq === "number" });
		} else {
			if (!p.epoch) p.epoch = m.epoch;
			if (!p.have && typeof m.seq === "number") Object.assign(p, { seq: m.seq, have: true });
		}
		clearTimeout(this.greetTimer);
		this.attempt = 0;
		this._set("open", { epoch: m.epoch, seq: m.seq, client_id: m.client_id });
		this._ping();
		while (this.queue.length && this.ws && this.ws.readyState === 1) this.ws.send(this.queue.shift());
	}

	_gap(g) {
		const p = this.pos;
		if (g.reason === "epoch") {
			Object.assign(p, { epoch: g.epoch || "", seq: 0, printed: 0, have: true });
		} else if (typeof g.to === "number") {
			p.seq = Math.max(p.have ? p.seq : 0, g.to);
			p.printed = Math.max(p.printed, g.to);
			p.have = true;
		}
	}
}
