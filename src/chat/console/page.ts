import { ALERT_BUTTON_LABELS, FAILSAFE_BUTTON, FAILSAFE_BUTTON_LABEL } from '../../../commands/handlers.js';

/**
 * The local web console: one self-contained page (no build step, no CDN, nothing fetched but xmsg's own
 * /console/* routes). Embedded as a string so `npm run build` output serves it without copying assets.
 *
 * Everything shown is put into the DOM with textContent / createTextNode, never innerHTML: alerts carry
 * chain-provided data and names typed by people. The button labels are the ones every platform shows.
 */
export const CONSOLE_PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xmsg console</title>
<style>
  :root {
    --bg: #f3f4f7; --card: #fff; --ink: #1c2230; --muted: #667085; --line: #e3e6ec;
    --critical: #d32f2f; --critical-bg: #fdecec; --warning: #e5a000; --warning-bg: #fff6dc;
    --ok: #2e7d32; --ok-bg: #e8f5e9; --accent: #3558d6; --top: #151b2b;
    --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
  header.top { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: var(--top); color: #e8ecf5; box-shadow: 0 1px 3px rgba(0,0,0,.25); flex-wrap: wrap; }
  .brand { font-weight: 700; font-size: 17px; letter-spacing: .2px; white-space: nowrap; }
  .brand .sub { font-weight: 400; color: #9aa6c0; margin-left: 4px; }
  .chains { display: flex; gap: 10px; flex: 1; flex-wrap: wrap; }
  .chain { display: flex; align-items: center; gap: 10px; padding: 5px 10px; border-radius: 8px; background: #222b40; font-size: 12.5px; white-space: nowrap; }
  .chain .dot { width: 9px; height: 9px; border-radius: 50%; background: #43c463; box-shadow: 0 0 0 3px rgba(67,196,99,.18); }
  .chain.down .dot { background: #ff5252; box-shadow: 0 0 0 3px rgba(255,82,82,.25); }
  .chain.down { background: #4a1f26; }
  .chain b { font-weight: 600; }
  .chain .k { color: #8d98b3; margin-right: 3px; }
  .chain .lag.behind { color: #ffcc66; font-weight: 600; }
  .chain .why { color: #ffb4b4; max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
  .me { display: flex; align-items: center; gap: 10px; margin-left: auto; }
  .me label { color: #9aa6c0; font-size: 12.5px; }
  .me input { width: 150px; padding: 5px 8px; border-radius: 6px; border: 1px solid #3a4560; background: #0f1421; color: #fff; font: inherit; }
  .me input.need { border-color: #ff5252; box-shadow: 0 0 0 3px rgba(255,82,82,.35); }
  .conn { font-size: 12px; padding: 3px 8px; border-radius: 999px; background: #39425a; color: #cfd6e6; white-space: nowrap; }
  .conn.live { background: #1f4d2c; color: #8fe3a6; }
  .conn.down { background: #5a2a2a; color: #ffb4b4; }
  main { max-width: 1180px; margin: 0 auto; padding: 16px 20px 60px; }
  .cmdbar { padding: 6px 0 10px; }
  form.cmd { display: flex; gap: 8px; }
  form.cmd input { flex: 1; padding: 9px 12px; border-radius: 8px; border: 1px solid #c9ceda; font: 14px var(--mono); background: #fff; }
  form.cmd input:focus, .me input:focus { outline: 2px solid var(--accent); outline-offset: 0; }
  button { font: inherit; cursor: pointer; border-radius: 7px; border: 1px solid #c9ceda; background: #fff; padding: 6px 12px; color: var(--ink); }
  button:hover:not(:disabled) { background: #f0f2f7; }
  button:disabled { opacity: .55; cursor: progress; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  button.primary:hover:not(:disabled) { background: #2a47b3; }
  button.danger { background: var(--critical); border-color: var(--critical); color: #fff; }
  button.danger:hover:not(:disabled) { background: #b71c1c; }
  button.good { color: var(--ok); border-color: #9fcfa2; }
  .answer { margin-top: 8px; border: 1px solid var(--line); border-left: 4px solid var(--accent); background: #fff; border-radius: 8px; padding: 8px 12px; box-shadow: 0 2px 6px rgba(16,24,40,.06); }
  .answer.error { border-left-color: var(--critical); background: #fff8f8; }
  .answer .head { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; }
  .answer .head button { border: 0; padding: 0 4px; background: none; font-size: 16px; line-height: 1; color: var(--muted); }
  .answer pre { margin: 4px 0 0; white-space: pre-wrap; word-break: break-word; font: 13px/1.5 var(--mono); max-height: 320px; overflow: auto; }
  .summary { display: flex; gap: 8px; margin: 6px 0 14px; flex-wrap: wrap; }
  .pill { padding: 4px 12px; border-radius: 999px; background: #fff; border: 1px solid var(--line); font-size: 13px; }
  .pill b { font-weight: 700; margin-right: 4px; }
  .pill.crit b { color: var(--critical); }
  .pill.warn b { color: #b27c00; }
  h2.section { font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 22px 0 8px; }
  .empty { padding: 28px; text-align: center; color: var(--muted); background: #fff; border: 1px dashed #cdd2dd; border-radius: 10px; }
  article.alert { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--warning); border-radius: 10px; padding: 14px 16px; margin-bottom: 14px; box-shadow: 0 1px 3px rgba(16,24,40,.05); }
  article.alert.sev-critical { border-left-color: var(--critical); }
  article.alert.resolved { border-left-color: var(--ok); opacity: .78; }
  .ahead { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
  .sev { font-size: 11px; font-weight: 800; letter-spacing: .6px; padding: 2px 8px; border-radius: 5px; color: #fff; background: var(--warning); }
  .sev-critical .sev { background: var(--critical); }
  .resolved .sev { background: var(--ok); }
  .aid { font: 600 13px var(--mono); color: var(--muted); }
  .ahead h3 { margin: 0; font-size: 16px; flex: 1; min-width: 240px; }
  .ahead time { color: var(--muted); font-size: 12.5px; white-space: nowrap; }
  .badges { display: flex; gap: 6px; flex-wrap: wrap; margin: 8px 0 4px; }
  .badge { font-size: 12px; padding: 2px 8px; border-radius: 5px; background: #eef0f5; color: #39425a; }
  .badge.open { background: var(--critical-bg); color: var(--critical); font-weight: 600; }
  .sev-warning .badge.open { background: var(--warning-bg); color: #8a6100; }
  .badge.acknowledged { background: #e7ecfb; color: var(--accent); font-weight: 600; }
  .badge.resolved { background: var(--ok-bg); color: var(--ok); font-weight: 600; }
  .badge.muted { background: #ece8f6; color: #5b3fa8; }
  .badge.page { background: #3a1f1f; color: #ffd2d2; }
  .detail { margin: 6px 0; }
  table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; font-size: 11.5px; text-transform: uppercase; letter-spacing: .4px; }
  code, .mono { font-family: var(--mono); font-size: 12.5px; }
  code { background: #f1f3f8; padding: 0 4px; border-radius: 4px; }
  .msgs { margin: 8px 0; }
  .status-bad { color: var(--critical); font-weight: 600; }
  details { margin: 8px 0 0; }
  details > summary { cursor: pointer; color: var(--muted); font-size: 13px; user-select: none; }
  details p { margin: 6px 0; }
  .actions { display: flex; gap: 8px; margin: 12px 0 4px; flex-wrap: wrap; }
  .thread { margin-top: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
  .thread h4 { margin: 0 0 6px; font-size: 12.5px; color: var(--muted); font-weight: 600; }
  .thread ol { list-style: none; margin: 0; padding: 0 0 0 14px; border-left: 3px solid #dfe3ec; }
  .thread li { padding: 5px 0; }
  .thread li time { color: var(--muted); font-size: 12px; margin-right: 8px; font-family: var(--mono); }
  .thread .none { color: var(--muted); font-style: italic; }
  .mention { font-weight: 700; color: #a3161b; background: #fde3e3; border-radius: 4px; padding: 0 5px; margin-right: 6px; font-size: 12px; }
  .audit td:first-child { white-space: nowrap; font-family: var(--mono); color: var(--muted); }
  .foot { color: var(--muted); font-size: 12px; text-align: center; margin-top: 28px; }
  table.silences { background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
  table.silences .scheduled td { color: var(--muted); }
  .notices { list-style: none; margin: 0; padding: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
  .notices li { padding: 6px 12px; border-bottom: 1px solid var(--line); }
  .notices li:last-child { border-bottom: 0; }
  .notices li time { color: var(--muted); font-size: 12px; margin-right: 8px; font-family: var(--mono); }
  .notices li.parked { background: var(--warning-bg); }
  .failsafe { display: flex; gap: 8px; flex-wrap: wrap; font-size: 12px; }
  .failsafe .fs { padding: 3px 8px; border-radius: 6px; background: rgba(255,255,255,.12); }
  .failsafe .fs.on { background: var(--critical); color: #fff; font-weight: 700; }
  .badge.parked { background: var(--warning-bg); color: #8a6100; font-weight: 600; }
</style>
</head>
<body>
<header class="top">
  <div class="brand">xmsg <span class="sub">interop on-call console</span></div>
  <div class="chains" id="chains" aria-label="chains"></div>
  <div class="failsafe" id="failsafe" aria-label="interop failsafe" hidden></div>
  <div class="me">
    <label for="name">Operator</label>
    <input id="name" maxlength="64" placeholder="your name" autocomplete="nickname">
    <span class="conn" id="conn">connecting…</span>
  </div>
</header>
<main>
  <div class="cmdbar">
    <form class="cmd" id="cmdform" autocomplete="off">
      <input id="cmd" name="cmd" placeholder="/xmsg help   ·   /xmsg list all   ·   /xmsg status XM-1   ·   /xmsg silence 902 2h batcher upgrade" aria-label="xmsg command" maxlength="2000">
      <button class="primary" type="submit" id="run">Run</button>
    </form>
    <div class="answer" id="answer" hidden>
      <div class="head"><span id="answer-title">Only you can see this</span><button type="button" id="answer-close" aria-label="close">×</button></div>
      <pre id="answer-text"></pre>
    </div>
  </div>
  <div class="summary" id="summary"></div>
  <div id="silences"></div>
  <div id="channel"></div>
  <div id="alerts"></div>
  <div class="foot">Live from xmsg · answers to commands and buttons are shown only to you · thread replies and the audit trail are the same on every chat xmsg posts to</div>
</main>
<script>
(function () {
  'use strict';
  var state = null;
  var openDetails = {};
  var busy = {};
  var nameInput = document.getElementById('name');
  var NAME_KEY = 'xmsg.console.name';

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  /** Plain text with the command model's code spans shown as code: still only text nodes. */
  function richText(text) {
    var parts = String(text).split(/(\u0060[^\u0060\n]*\u0060)/);
    return parts.map(function (p) {
      return p.length > 1 && p.charAt(0) === '\u0060' && p.charAt(p.length - 1) === '\u0060' ? h('code', { text: p.slice(1, -1) }) : p;
    });
  }
  function shortHash(s) { s = String(s || ''); return s.length > 18 ? s.slice(0, 10) + '…' + s.slice(-6) : s; }
  function hash(s) { return h('code', { title: String(s || ''), text: shortHash(s) }); }
  function iso(ms) { return new Date(ms).toISOString().replace('.000Z', 'Z'); }
  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
    return Math.floor(s / 86400) + ' d ago';
  }
  function clock(ms) { return new Date(ms).toTimeString().slice(0, 8); }
  function timeEl(ms, rel) {
    return h('time', { datetime: iso(ms), title: iso(ms), 'data-ts': rel ? String(ms) : null, text: rel ? ago(ms) : clock(ms) });
  }

  // ── the operator's name ──
  try { nameInput.value = localStorage.getItem(NAME_KEY) || ''; } catch (e) {}
  nameInput.addEventListener('input', function () {
    nameInput.classList.remove('need');
    try { localStorage.setItem(NAME_KEY, nameInput.value.trim()); } catch (e) {}
  });
  function operator() {
    var n = nameInput.value.trim();
    if (!n) {
      nameInput.classList.add('need');
      nameInput.focus();
      showAnswer(false, 'Enter your name in the Operator field first: it is who acts, in the thread and the audit trail.', 'Who are you?');
    }
    return n;
  }

  // ── ephemeral answers ──
  function showAnswer(ok, text, title) {
    var box = document.getElementById('answer');
    box.hidden = false;
    box.className = 'answer' + (ok ? '' : ' error');
    document.getElementById('answer-title').textContent = (title ? title + ' · ' : '') + 'only you can see this';
    var pre = document.getElementById('answer-text');
    pre.textContent = '';
    append(pre, richText(text));
  }
  document.getElementById('answer-close').addEventListener('click', function () { document.getElementById('answer').hidden = true; });

  function post(path, body) {
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) {
        if (res.status === 401) location.reload(); // the sign-in ended: show the sign-in form
        return res.json().catch(function () { return { error: 'HTTP ' + res.status }; }).then(function (json) {
          if (!res.ok) return { ok: false, text: json && json.error ? String(json.error) : 'HTTP ' + res.status };
          return json;
        });
      }, function (err) { return { ok: false, text: 'xmsg did not answer: ' + err.message }; });
  }

  document.getElementById('cmdform').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = document.getElementById('cmd');
    var line = input.value.trim();
    if (!line) return;
    var name = operator();
    if (!name) return;
    var run = document.getElementById('run');
    run.disabled = true;
    post('/console/command', { name: name, text: line }).then(function (r) {
      showAnswer(!!r.ok, r.text, line.indexOf('/xmsg') === 0 ? line : '/xmsg ' + line);
      if (r.ok) { input.value = ''; soon(); } // a silence made or lifted changes the list of silences
      run.disabled = false;
      input.focus();
    });
  });

  // deployment: the state the alert was posted under, so a page still showing an alert of an earlier state (Redis lost
  // it, and alert numbers restarted) cannot act on the new alert of the same number.
  function press(alertId, button, label, deployment) {
    var name = operator();
    if (!name) return;
    var key = alertId + ':' + button;
    busy[key] = true;
    render();
    var body = { name: name, alertId: alertId, button: button };
    if (deployment) body.deployment = deployment;
    post('/console/button', body).then(function (r) {
      delete busy[key];
      showAnswer(!!r.ok, r.text, label + ' ' + alertId);
      render();
    });
  }

  // ── rendering ──
  function renderChains(chains) {
    var box = document.getElementById('chains');
    box.textContent = '';
    (chains || []).forEach(function (c) {
      var lag = c.lag === undefined ? '?' : c.lag;
      var behind = c.lag !== undefined && Number(c.lag) > 2;
      box.appendChild(h('div', { class: 'chain' + (c.healthy ? '' : ' down'), 'data-chain': c.chainId, title: c.healthy ? 'healthy' : 'unhealthy: ' + (c.reason || 'unknown') },
        h('span', { class: 'dot' }),
        h('b', { text: 'chain ' + c.chainId }),
        h('span', null, h('span', { class: 'k', text: 'head' }), c.latest || '?'),
        h('span', null, h('span', { class: 'k', text: 'safe' }), c.safe || '?'),
        h('span', null, h('span', { class: 'k', text: 'final' }), c.finalized || '?'),
        h('span', { class: 'lag' + (behind ? ' behind' : ''), title: 'blocks between the head and what xmsg has processed' }, h('span', { class: 'k', text: 'lag' }), String(lag)),
        c.healthy ? null : h('span', { class: 'why', text: c.reason || 'unhealthy' })));
    });
  }

  function details(key, summary, body, openByDefault) {
    var d = h('details', { 'data-key': key }, h('summary', { text: summary }), body);
    d.open = key in openDetails ? openDetails[key] : !!openByDefault;
    d.addEventListener('toggle', function () { openDetails[key] = d.open; });
    return d;
  }

  var LABELS = ${JSON.stringify(ALERT_BUTTON_LABELS)};
  var BUTTONS = [
    { id: 'ack', label: LABELS.ack, cls: 'primary' },
    { id: 'escalate', label: LABELS.escalate, cls: 'danger' },
    { id: 'silence_1h', label: LABELS.silence_1h, cls: '' },
    { id: 'resolve', label: LABELS.resolve, cls: 'good' }
  ];
  // On consensus-bug kinds while the failsafe is configured: a vote; a second operator name must confirm.
  var FAILSAFE = { id: ${JSON.stringify(FAILSAFE_BUTTON)}, label: ${JSON.stringify(FAILSAFE_BUTTON_LABEL)}, cls: 'danger' };
  function renderFailsafe(list) {
    var box = document.getElementById('failsafe');
    box.hidden = !list || !list.length;
    box.replaceChildren.apply(box, (list || []).map(function (f) {
      var what = f.enabled === undefined ? 'unknown' : f.enabled ? 'ON: executing messages refused' : 'off';
      return h('span', { class: 'fs' + (f.enabled ? ' on' : ''), 'data-failsafe': f.endpoint, title: f.error || '', text: 'failsafe ' + f.endpoint + ': ' + what });
    }));
  }
  var MENTION = { oncall: '@on-call', escalation: '@escalation' };
  // Whom a post paged: one target, or the several of an escalation level.
  function mentionLabel(m) { return [].concat(m).map(function (t) { return MENTION[t] || t; }).join(' '); }

  /** Platforms where this alert's chat deliveries are parked (its thread there kept failing). */
  function parkedOn(alertId) {
    return ((state && state.parked) || []).filter(function (p) { return p.alertId === alertId; }).map(function (p) { return p.platform; });
  }

  function stateBadges(a, t) {
    var parked = parkedOn(a.id);
    var stateText = a.state === 'acknowledged' ? 'acknowledged by ' + a.ackedBy : a.state === 'resolved' ? 'resolved by ' + a.resolvedBy : 'open';
    return [
      h('span', { class: 'badge ' + a.state, 'data-role': 'state', text: stateText }),
      a.silenceId ? h('span', { class: 'badge muted', text: 'silenced (' + a.silenceId + ')' }) : null,
      a.escalationLevel > 0 ? h('span', { class: 'badge page', text: 'escalation level ' + a.escalationLevel }) : null,
      t.mention ? h('span', { class: 'badge page', text: 'paged ' + mentionLabel(t.mention) }) : null,
      parked.length ? h('span', { class: 'badge parked', 'data-role': 'parked', text: 'chat parked on ' + parked.join(', ') }) : null,
      h('span', { class: 'badge', text: a.count + ' occurrence' + (a.count === 1 ? '' : 's') }),
      h('span', { class: 'badge', text: a.kind }),
      h('span', { class: 'badge', text: (a.chainId ? 'chain ' + a.chainId : 'all chains') + (a.sourceChainIds && a.sourceChainIds.length ? ' · sources ' + a.sourceChainIds.join(', ') : '') })
    ];
  }

  function messagesTable(a) {
    if (!a.sample || !a.sample.length) return null;
    return h('table', { class: 'msgs' },
      h('thead', null, h('tr', null, ['block', 'tx · log', 'msgHash', 'identifier (origin · chain · block · log · time)', 'status'].map(function (c) { return h('th', { text: c }); }))),
      h('tbody', null, a.sample.slice(0, 5).map(function (m) {
        var id = m.identifier || {};
        return h('tr', null,
          h('td', null, String(m.blockNumber), ' ', hash(m.blockHash)),
          h('td', null, hash(m.txHash), ' · ', String(m.logIndex)),
          h('td', null, hash(m.msgHash)),
          h('td', null, hash(id.origin), ' · ', String(id.chainId), ' · ', String(id.blockNumber), ' · ', String(id.logIndex), ' · ', String(id.timestamp)),
          h('td', null, h('span', { class: m.status === 'valid' ? '' : 'status-bad', text: m.status }), ': ', m.reason));
      })));
  }

  function alertCard(t) {
    var a = t.alert;
    var resolved = a.state === 'resolved';
    var replies = t.replies || [];
    var audit = t.audit || [];
    return h('article', { class: 'alert sev-' + a.severity + (resolved ? ' resolved' : ''), id: 'alert-' + a.id, 'data-alert': a.id, 'data-state': a.state },
      h('div', { class: 'ahead' },
        h('span', { class: 'sev', text: resolved ? 'RESOLVED' : a.severity.toUpperCase() }),
        h('span', { class: 'aid', text: a.id }),
        h('h3', { text: a.title }),
        timeEl(a.createdAt, true)),
      h('div', { class: 'badges' }, stateBadges(a, t)),
      // Like the other platforms: the latest detail when the sample does not already show it.
      !a.sample || !a.sample.length ? h('p', { class: 'detail' }, richText(a.detail || '-'))
        : a.count > a.sample.length ? h('p', { class: 'detail' }, '…and ' + (a.count - a.sample.length) + ' more. Latest: ', richText(a.detail || '')) : null,
      messagesTable(a),
      details(a.id + ':runbook', 'Runbook', h('p', { text: t.runbook }), false),
      resolved ? null : h('div', { class: 'actions' }, (t.failsafe ? BUTTONS.concat([FAILSAFE]) : BUTTONS).map(function (b) {
        var key = a.id + ':' + b.id;
        return h('button', { type: 'button', class: b.cls, 'data-button': b.id, disabled: !!busy[key], onclick: function () { press(a.id, b.id, b.label, t.deployment); } }, busy[key] ? b.label + '…' : b.label);
      })),
      h('section', { class: 'thread', 'aria-label': 'thread' },
        h('h4', { text: 'Thread · ' + replies.length + (replies.length === 1 ? ' reply' : ' replies') }),
        replies.length
          ? h('ol', null, replies.map(function (r) {
              return h('li', null, timeEl(r.at, false), r.mention ? h('span', { class: 'mention', text: mentionLabel(r.mention) }) : null, richText(r.text));
            }))
          : h('div', { class: 'none', text: 'No replies yet.' })),
      details(a.id + ':audit', 'Audit trail · ' + audit.length + (audit.length === 1 ? ' entry' : ' entries'),
        h('table', { class: 'audit' },
          h('thead', null, h('tr', null, h('th', { text: 'when' }), h('th', { text: 'who' }), h('th', { text: 'action' }), h('th', { text: 'note' }))),
          h('tbody', null, audit.map(function (e) {
            return h('tr', null, h('td', { title: iso(e.at), text: iso(e.at).slice(11, 19) }), h('td', { text: e.who }), h('td', { text: e.action }), h('td', null, richText(e.note || '')));
          }))), false));
  }

  /** Silences in effect and scheduled ones: id, what, window, by whom and why. Ended ones drop out as time passes. */
  function renderSilences() {
    var box = document.getElementById('silences');
    box.textContent = '';
    var now = Date.now();
    var shown = ((state && state.silences) || []).filter(function (s) { return s.until > now; });
    if (!shown.length) return;
    box.appendChild(h('h2', { class: 'section', text: 'Silences' }));
    box.appendChild(h('table', { class: 'silences' },
      h('thead', null, h('tr', null, ['id', 'mutes', 'window', 'by', 'reason'].map(function (c) { return h('th', { text: c }); }))),
      h('tbody', null, shown.map(function (s) {
        var active = s.from <= now;
        return h('tr', { 'data-silence': s.id, 'data-active': active ? 'yes' : 'no', class: active ? '' : 'scheduled' },
          h('td', { class: 'mono', text: s.id }),
          h('td', { text: s.matcher + ' ' + s.value }),
          h('td', { text: active ? 'until ' + iso(s.until) : 'scheduled: ' + iso(s.from) + ' → ' + iso(s.until) }),
          h('td', { text: s.by }),
          h('td', { text: s.reason || '' }));
      }))));
  }

  /** The channel: notices posted outside any alert's thread, and alerts whose chat deliveries are parked somewhere. */
  function renderChannel() {
    var box = document.getElementById('channel');
    box.textContent = '';
    var parked = (state && state.parked) || [];
    var notices = (state && state.notices) || [];
    if (!parked.length && !notices.length) return;
    box.appendChild(h('h2', { class: 'section', text: 'Channel' }));
    box.appendChild(h('ul', { class: 'notices' },
      parked.map(function (p) {
        return h('li', { class: 'parked', 'data-parked': p.platform + ':' + p.alertId }, timeEl(p.at, false),
          p.alertId + ': deliveries to ' + p.platform + ' are parked (' + p.reason + '); its updates there are dropped');
      }),
      notices.map(function (n) {
        return h('li', { 'data-notice': n.key }, timeEl(n.at, false), richText(n.text));
      })));
  }

  function render() {
    if (!state) return;
    renderSilences();
    renderChannel();
    renderChains(state.chains);
    renderFailsafe(state.failsafe);
    var alerts = state.alerts || [];
    var active = alerts.filter(function (t) { return t.alert.state !== 'resolved'; });
    var done = alerts.filter(function (t) { return t.alert.state === 'resolved'; });
    var open = active.filter(function (t) { return t.alert.state === 'open'; });
    var crit = open.filter(function (t) { return t.alert.severity === 'critical'; }).length;
    document.title = (open.length ? '(' + open.length + ') ' : '') + 'xmsg console';

    var summary = document.getElementById('summary');
    summary.textContent = '';
    append(summary, [
      h('span', { class: 'pill crit', 'data-count': 'open' }, h('b', { text: String(open.length) }), 'open'),
      h('span', { class: 'pill crit' }, h('b', { text: String(crit) }), 'critical open'),
      h('span', { class: 'pill warn' }, h('b', { text: String(open.length - crit) }), 'warning open'),
      h('span', { class: 'pill' }, h('b', { text: String(active.length - open.length) }), 'acknowledged'),
      h('span', { class: 'pill' }, h('b', { text: String(done.length) }), 'resolved')
    ]);

    var box = document.getElementById('alerts');
    box.textContent = '';
    box.appendChild(h('h2', { class: 'section', text: 'Needs attention' }));
    if (active.length) active.forEach(function (t) { box.appendChild(alertCard(t)); });
    else box.appendChild(h('div', { class: 'empty', 'data-empty': 'active', text: 'All quiet: no open alerts. xmsg is watching ' + (state.chains || []).length + ' chain(s).' }));
    if (done.length) {
      box.appendChild(h('h2', { class: 'section', text: 'Resolved' }));
      done.forEach(function (t) { box.appendChild(alertCard(t)); });
    }
  }

  // ── data: the state, then live updates over Server-Sent Events ──
  var loading = false, again = false, timer = null;
  function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    fetch('/console/state', { cache: 'no-store' }).then(function (res) {
      if (res.status === 401) location.reload();
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (s) { state = s; render(); }, function (err) {
      setConn('down', 'cannot load state: ' + err.message);
    }).then(function () {
      loading = false;
      if (again) { again = false; refresh(); }
    });
  }
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 120); }
  function setConn(cls, text) { var c = document.getElementById('conn'); c.className = 'conn ' + cls; c.textContent = text; }

  var events = new EventSource('/console/events');
  events.addEventListener('open', function () { setConn('live', '● live'); refresh(); });
  events.addEventListener('error', function () { setConn('down', 'reconnecting…'); });
  events.addEventListener('alert', soon);
  events.addEventListener('health', function (ev) {
    var data = JSON.parse(ev.data);
    if (state) { state.chains = data.chains; state.failsafe = data.failsafe; }
    renderChains(data.chains);
    renderFailsafe(data.failsafe);
  });
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll('time[data-ts]'), function (t) { t.textContent = ago(Number(t.getAttribute('data-ts'))); });
    renderSilences();
  }, 15000);
  refresh();
})();
</script>
</body>
</html>
`;

/**
 * The sign-in form shown instead of the console when XMSG_CONSOLE_TOKEN is set and the visitor has no session: a
 * plain form posting the token to /console/login (no script), `problem` shown above it.
 */
export function signInPage(problem?: string): string {
  const escaped = (problem ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xmsg console: sign in</title>
<style>
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1c2230; background: #f3f4f7; }
  form { width: min(380px, 92vw); background: #fff; border: 1px solid #e3e6ec; border-radius: 10px; padding: 22px 24px; box-shadow: 0 2px 8px rgba(16,24,40,.08); }
  h1 { margin: 0 0 4px; font-size: 18px; }
  p { margin: 0 0 14px; color: #667085; }
  label { display: block; margin-bottom: 6px; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: 9px 12px; border-radius: 8px; border: 1px solid #c9ceda; font: 14px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  button { margin-top: 14px; width: 100%; padding: 9px 12px; border-radius: 8px; border: 1px solid #3558d6; background: #3558d6; color: #fff; font: inherit; cursor: pointer; }
  .problem { margin: 0 0 12px; padding: 8px 10px; border-radius: 8px; background: #fdecec; color: #b71c1c; }
</style>
</head>
<body>
<form method="post" action="/console/login">
  <h1>xmsg console</h1>
  <p>Sign in with the console token (XMSG_CONSOLE_TOKEN).</p>
  ${escaped ? `<div class="problem" role="alert">${escaped}</div>` : ''}
  <label for="token">Console token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Sign in</button>
</form>
</body>
</html>
`;
}
