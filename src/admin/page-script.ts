/**
 * The status page's one script, inline and allowed by its hash in the
 * page's Content-Security-Policy (see page.ts). It follows
 * `/api/stream` (server-sent events, one StatusSnapshot a second) and falls
 * back to polling `/api/status` every 2 s when the stream fails, trying the
 * stream again after a while. Rows are kept by key (session id, banned
 * address) and updated in place, so a button does not vanish under the
 * pointer. Everything from the data goes in through textContent or
 * attributes, never as markup. Plain ES2017, no backticks (this is a
 * template literal).
 */
export const SCRIPT = `
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  var WINDOW_MS = 5 * 60 * 1000;
  var POLL_MS = 2000;
  var POLLS_BEFORE_RETRY = 15;
  var RATE_WINDOW_MS = 5000;
  var state = { last: null, rates: new Map(), transfersKey: null, es: null, poll: null, polls: 0, mode: '' };
  var sessionRows = new Map();
  var banRows = new Map();

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Units.
  function unitOf(n) { var i = 0; while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; } return i; }
  function size(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '—';
    var i = unitOf(n), v = n / Math.pow(1024, i);
    return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + ' ' + UNITS[i];
  }
  function rate(n) { return size(n) + '/s'; }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function duration(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + pad(s % 60) + ' s';
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + pad(m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function clock(ms, now) {
    var d = new Date(ms), t = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (d.toDateString() === new Date(now).toDateString()) return t;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + t;
  }
  function baseName(p) { var i = p.lastIndexOf('/'); return i >= 0 && i < p.length - 1 ? p.slice(i + 1) : p; }
  function list(v) { return Array.isArray(v) ? v : []; }
  // An empty table shows its note instead of a lone heading row.
  function empty(name, none) {
    var note = $(name + '-empty');
    note.textContent = none ? note.getAttribute('data-text') : '';
    note.hidden = !none;
    $(name).parentNode.hidden = none;
  }

  // Sessions.
  function sessionRow(id) {
    var tr = el('tr'), cells = {};
    tr.setAttribute('data-id', String(id));
    ['id', 'user', 'address', 'protocol', 'cwd', 'idle', 'file', 'progress', 'rate', 'actions'].forEach(function (n) {
      cells[n] = el('td', n);
      tr.appendChild(cells[n]);
    });
    cells.id.textContent = String(id);
    var r = { tr: tr, cells: cells, proto: el('span', 'proto'), badge: el('span', 'badge'), prog: el('progress'), bytes: el('span', 'bytes'), btn: el('button', 'danger disconnect', 'Disconnect') };
    cells.protocol.append(r.proto, r.badge);
    cells.progress.append(r.prog, r.bytes);
    r.btn.type = 'button';
    r.btn.addEventListener('click', function () { disconnect(id, r.btn); });
    cells.actions.appendChild(r.btn);
    return r;
  }
  // A transfer's rate: bytes over the snapshots of the last few seconds (smooths chunky counters).
  function rateOf(s, now) {
    var t = s.transfer, key = t.direction + ' ' + t.path, h = state.rates.get(s.id);
    if (!h || h.key !== key) { h = { key: key, points: [] }; state.rates.set(s.id, h); }
    var last = h.points[h.points.length - 1];
    if (last && t.bytes < last.bytes) { h.points = []; last = undefined; }
    if (!last || now - last.now >= 500) h.points.push({ bytes: t.bytes, now: now });
    while (h.points.length > 2 && now - h.points[1].now >= RATE_WINDOW_MS) h.points.shift();
    var a = h.points[0], b = h.points[h.points.length - 1];
    return h.points.length < 2 || b.now <= a.now ? null : ((b.bytes - a.bytes) * 1000) / (b.now - a.now);
  }
  function fillTransfer(r, s, now) {
    var c = r.cells, t = s.transfer;
    if (!t) {
      c.file.textContent = '—';
      c.file.className = 'file';
      c.file.removeAttribute('title');
      r.prog.hidden = true;
      r.bytes.textContent = '';
      r.bytes.removeAttribute('data-bytes');
      c.rate.textContent = '';
      state.rates.delete(s.id);
      return;
    }
    var up = t.direction === 'upload';
    c.file.textContent = (up ? '↑ ' : '↓ ') + (t.path === null ? '(listing)' : baseName(t.path));
    c.file.title = (up ? 'upload of ' : 'download of ') + (t.path === null ? 'a listing' : t.path);
    c.file.className = 'file dir-' + t.direction;
    var known = typeof t.size === 'number' && t.size > 0;
    r.prog.hidden = !known;
    if (known) {
      r.prog.max = t.size;
      r.prog.value = Math.min(t.bytes, t.size);
      r.bytes.textContent = size(t.bytes) + ' of ' + size(t.size) + ' (' + Math.floor((Math.min(t.bytes, t.size) * 100) / t.size) + '%)';
    } else {
      r.bytes.textContent = size(t.bytes);
    }
    r.bytes.setAttribute('data-bytes', String(t.bytes));
    r.bytes.title = t.bytes + ' bytes';
    var rt = rateOf(s, now);
    c.rate.textContent = rt === null ? '…' : rate(rt);
  }
  function fillSession(r, s, now) {
    var c = r.cells;
    c.user.textContent = s.user === null || s.user === undefined ? '—' : s.user;
    c.user.className = 'user' + (s.anonymous ? ' anon' : '');
    c.user.title = s.anonymous ? 'anonymous' : s.user === null ? 'not logged in' : '';
    c.address.textContent = s.address;
    r.proto.textContent = s.protocol;
    r.badge.textContent = s.secure ? (s.protocol === 'sftp' ? 'SSH' : 'TLS') : 'plain';
    r.badge.className = 'badge ' + (s.secure ? 'secure' : 'plain');
    r.badge.title = s.secure ? 'encrypted' : 'not encrypted';
    c.cwd.textContent = s.cwd;
    c.idle.textContent = duration(s.idleSeconds);
    c.idle.title = 'connected at ' + clock(s.connectedAt, now) + ', ' + duration((now - s.connectedAt) / 1000) + ' ago';
    fillTransfer(r, s, now);
  }
  function renderSessions(sessions, now) {
    var body = $('sessions-body'), seen = new Set();
    sessions.forEach(function (s, i) {
      seen.add(s.id);
      var r = sessionRows.get(s.id);
      if (!r) { r = sessionRow(s.id); sessionRows.set(s.id, r); }
      fillSession(r, s, now);
      if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] || null);
    });
    sessionRows.forEach(function (r, id) {
      if (seen.has(id)) return;
      r.tr.remove();
      sessionRows.delete(id);
      state.rates.delete(id);
    });
    $('sessions-count').textContent = '(' + sessions.length + ')';
    empty('sessions', sessions.length === 0);
  }

  // Recent transfers: rebuilt only when the list changed.
  function renderTransfers(transfers, now) {
    var first = transfers[0], key = transfers.length + ' ' + (first ? first.at + ' ' + first.path : '');
    if (key === state.transfersKey) return;
    state.transfersKey = key;
    var body = $('transfers-body'), frag = document.createDocumentFragment();
    transfers.forEach(function (t) {
      var tr = el('tr');
      tr.setAttribute('data-path', t.path);
      var time = el('td', 'time', clock(t.at, now));
      time.title = new Date(t.at).toISOString();
      var bytes = el('td', 'bytes', size(t.bytes));
      bytes.title = t.bytes + ' bytes';
      tr.append(time, el('td', 'user', t.user || '—'), el('td', 'address', t.address), el('td', 'protocol', t.protocol), el('td', 'dir-' + t.direction, t.direction),
        el('td', 'path', t.path), bytes, el('td', 'seconds', t.seconds < 0.05 ? '< 0.1 s' : (Math.round(t.seconds * 10) / 10).toFixed(1) + ' s'), el('td', 'result result-' + (t.ok ? 'ok' : 'failed'), t.ok ? 'ok' : 'failed'));
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    $('transfers-count').textContent = '(' + transfers.length + ')';
    empty('transfers', transfers.length === 0);
  }

  // Bans.
  function banRow(address) {
    var tr = el('tr'), until = el('td', 'until'), btn = el('button', 'lift', 'Lift'), act = el('td', 'actions');
    tr.setAttribute('data-address', address);
    btn.type = 'button';
    btn.addEventListener('click', function () { lift(address, btn); });
    act.appendChild(btn);
    tr.append(el('td', 'address', address), until, act);
    return { tr: tr, until: until };
  }
  function renderBans(bans, now) {
    var body = $('bans-body'), seen = new Set();
    bans.forEach(function (b, i) {
      seen.add(b.address);
      var r = banRows.get(b.address);
      if (!r) { r = banRow(b.address); banRows.set(b.address, r); }
      r.until.textContent = clock(b.until, now) + ' (in ' + duration((b.until - now) / 1000) + ')';
      r.until.title = new Date(b.until).toISOString();
      if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] || null);
    });
    banRows.forEach(function (r, a) { if (!seen.has(a)) { r.tr.remove(); banRows.delete(a); } });
    $('bans-count').textContent = '(' + bans.length + ')';
    empty('bans', bans.length === 0);
  }

  // The throughput chart: inline SVG, sized to its box, the last five minutes.
  function niceScale(max) {
    var unit = unitOf(max), div = Math.pow(1024, unit), m = max / div;
    if (!(m > 0)) return { top: 1024, step: 256, unit: 1, div: 1024 };
    var raw = m / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    var step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
    return { top: Math.ceil(m / step - 1e-9) * step * div, step: step * div, unit: unit, div: div };
  }
  function axisLabel(v, sc) { return v === 0 ? '0' : Math.round((v / sc.div) * 100) / 100 + ' ' + UNITS[sc.unit] + '/s'; }
  function polyline(samples, dir, x, y, base) {
    var pts = samples.map(function (s) { return x(s.at).toFixed(1) + ',' + y(s[dir]).toFixed(1); });
    if (!pts.length) return [];
    var first = x(samples[0].at).toFixed(1), last = x(samples[samples.length - 1].at).toFixed(1);
    return [svg('polygon', { class: 'area ' + dir, points: first + ',' + base + ' ' + pts.join(' ') + ' ' + last + ',' + base }), svg('polyline', { class: 'line ' + dir, points: pts.join(' ') })];
  }
  function drawChart(all, now) {
    var box = $('chart'), w = Math.max(260, Math.round(box.clientWidth || 600)), h = 200;
    var m = { l: 74, r: 10, t: 10, b: 24 }, pw = w - m.l - m.r, ph = h - m.t - m.b;
    var samples = all.filter(function (s) { return now - s.at <= WINDOW_MS; });
    var max = samples.reduce(function (a, s) { return Math.max(a, s.in, s.out); }, 0), sc = niceScale(max);
    function x(at) { return m.l + pw * (1 - Math.min(1, (now - at) / WINDOW_MS)); }
    function y(v) { return m.t + ph * (1 - v / sc.top); }
    var root = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: w, height: h, role: 'img', 'data-samples': samples.length });
    var n = Math.round(sc.top / sc.step);
    for (var i = 0; i <= n; i++) {
      var v = i * sc.step, yy = y(v).toFixed(1);
      root.appendChild(svg('line', { class: i === 0 ? 'axis' : 'grid', x1: m.l, x2: w - m.r, y1: yy, y2: yy }));
      root.appendChild(svg('text', { x: m.l - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, axisLabel(v, sc)));
    }
    for (var k = 0; k <= 5; k++) {
      var xx = x(now - k * 60000);
      root.appendChild(svg('line', { class: 'grid', x1: xx.toFixed(1), x2: xx.toFixed(1), y1: m.t, y2: h - m.b }));
      // Narrow: a label every other minute, so they do not run into each other.
      if (pw < 380 && k % 2 === 1) continue;
      root.appendChild(svg('text', { x: xx.toFixed(1), y: h - 6, 'text-anchor': k === 0 ? 'end' : k === 5 ? 'start' : 'middle' }, k === 0 ? 'now' : '−' + k + ' min'));
    }
    polyline(samples, 'out', x, y, y(0).toFixed(1)).concat(polyline(samples, 'in', x, y, y(0).toFixed(1))).forEach(function (e) { root.appendChild(e); });
    if (!samples.length) root.appendChild(svg('text', { x: m.l + pw / 2, y: m.t + ph / 2, 'text-anchor': 'middle' }, 'no samples yet (one every 2 s)'));
    // The legend: the mean of the last 10 s (five samples), steadier than the last sample alone.
    var recent = samples.filter(function (s) { return now - s.at <= 10000; });
    var mean = function (dir) { return recent.length ? recent.reduce(function (a, s) { return a + s[dir]; }, 0) / recent.length : 0; };
    $('rate-in').textContent = rate(mean('in'));
    $('rate-out').textContent = rate(mean('out'));
    root.setAttribute('aria-label', 'Throughput over the last 5 minutes; last 10 s in ' + rate(mean('in')) + ', out ' + rate(mean('out')) + '; peak ' + rate(max));
    box.replaceChildren(root);
  }

  function render(snap) {
    if (!snap || typeof snap !== 'object') return;
    var now = typeof snap.now === 'number' ? snap.now : Date.now();
    state.last = snap;
    renderSessions(list(snap.sessions), now);
    renderTransfers(list(snap.transfers), now);
    renderBans(list(snap.bans), now);
    drawChart(list(snap.throughput), now);
    $('updated').textContent = 'updated ' + clock(now, now);
  }

  // Where the data comes from.
  function setMode(mode, detail) {
    state.mode = mode;
    var c = $('conn');
    c.className = 'conn ' + mode;
    c.textContent = { connecting: 'connecting…', live: 'live', polling: 'polling every 2 s', offline: 'offline' }[mode];
    c.title = detail || '';
  }
  function refresh() {
    return fetch('/api/status', { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (snap) { render(snap); if (state.mode === 'offline') setMode(state.es ? 'live' : 'polling'); })
      .catch(function (e) { setMode('offline', e && e.message); });
  }
  function startPolling() {
    if (state.poll) return;
    setMode('polling', 'the live stream failed; it is tried again every 30 s');
    state.polls = 0;
    refresh();
    state.poll = setInterval(function () {
      if (++state.polls < POLLS_BEFORE_RETRY) { refresh(); return; }
      clearInterval(state.poll);
      state.poll = null;
      connect();
    }, POLL_MS);
  }
  function connect() {
    if (typeof EventSource !== 'function') { startPolling(); return; }
    var es = new EventSource('/api/stream');
    state.es = es;
    es.onopen = function () { setMode('live'); };
    es.onmessage = function (m) {
      var snap = null;
      try { snap = JSON.parse(m.data); } catch (e) { return; }
      render(snap);
    };
    es.onerror = function () { es.close(); state.es = null; startPolling(); };
  }

  // Actions: the browser (or the proxy) adds the Authorization header.
  function call(method, url, body) {
    var init = { method: method, headers: {} };
    if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(
      function (r) {
        return r.text().then(function (t) {
          var j = null;
          try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
          return { ok: r.ok, status: r.status, body: j };
        });
      },
      function (e) { return { ok: false, status: 0, body: { error: (e && e.message) || 'network error' } }; });
  }
  function why(res) { return (res.body && typeof res.body.error === 'string' && res.body.error) || 'HTTP ' + res.status; }
  function say(id, text, ok) { var p = $(id); p.textContent = text; p.className = 'msg ' + (ok ? 'ok' : 'bad'); }
  function disconnect(id, btn) {
    btn.disabled = true;
    btn.textContent = 'Disconnecting…';
    call('DELETE', '/api/sessions/' + encodeURIComponent(String(id))).then(function (res) {
      if (res.ok) say('sessions-msg', 'Session ' + id + ' disconnected.', true);
      else {
        say('sessions-msg', 'Could not disconnect session ' + id + ': ' + why(res), false);
        btn.disabled = false;
        btn.textContent = 'Disconnect';
      }
      return refresh();
    });
  }
  function lift(address, btn) {
    btn.disabled = true;
    call('DELETE', '/api/bans/' + encodeURIComponent(address)).then(function (res) {
      btn.disabled = false;
      if (res.ok) say('bans-msg', 'Lifted the ban on ' + address + '.', true);
      else say('bans-msg', 'Could not lift the ban on ' + address + ': ' + why(res), false);
      return refresh();
    });
  }
  function addBan() {
    var input = $('ban-address'), btn = $('ban-add'), address = input.value.trim();
    if (!address) { say('bans-msg', 'Type an IPv4 or IPv6 address first.', false); input.focus(); return; }
    btn.disabled = true;
    call('POST', '/api/bans', { address: address }).then(function (res) {
      btn.disabled = false;
      if (res.ok) {
        input.value = '';
        var until = res.body && Date.parse(res.body.until);
        say('bans-msg', 'Banned ' + address + (until ? ' until ' + clock(until, Date.now()) : '') + '.', true);
      } else say('bans-msg', 'Could not ban ' + address + ': ' + why(res), false);
      return refresh();
    });
  }

  $('ban-add').addEventListener('click', addBan);
  $('ban-address').addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); addBan(); } });
  var resizing = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { if (state.last) drawChart(list(state.last.throughput), state.last.now); }, 100);
  });
  setMode('connecting');
  connect();
})();
`;
