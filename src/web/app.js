/*
 * The bibrec web console: one page whose views follow the URL's fragment
 * (#/search, #/rec/ID, #/audit, #/privacy, #/policy, #/users). Everything
 * comes from the JSON API (/api/v1), which decides by role on the server;
 * the console only hides what the signed-in role may not do. The session
 * is the HttpOnly cookie the login sets; state-changing requests carry the
 * CSRF token from the login answer. No inline code (the page's
 * Content-Security-Policy forbids it), and server data is only ever put
 * into the page as text.
 */
'use strict';

const API = '/api/v1';
/* What each role may do: mirrors src/access/roles.c, only to hide controls. */
const CAN = {
  admin: ['users'],
  supervisor: ['search', 'play', 'export'],
  auditor: ['search', 'audit'],
  'privacy-officer': ['search', 'play', 'export', 'delete', 'hold', 'private', 'subject'],
  user: ['search', 'play', 'export', 'private'],
};

let session = JSON.parse(sessionStorage.getItem('bibrec') || 'null');

function can(what) {
  return !!session && (CAN[session.role] || []).includes(what);
}

/* ---- small DOM helpers ------------------------------------------------------ */

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function view(...children) {
  const v = document.getElementById('view');
  v.replaceChildren(...children);
  return v;
}

function status(msg) {
  const s = document.getElementById('status');
  s.textContent = msg || '';
  if (msg) setTimeout(() => { if (s.textContent === msg) s.textContent = ''; }, 5000);
}

function table(headers, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

/* ---- the API ----------------------------------------------------------------- */

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body, opts = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf;
  const r = await fetch(API + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401 && path !== '/login') {
    forget();
    location.hash = '#/login';
    throw new ApiError(401, 'signed out: please sign in again');
  }
  if (opts.raw) {
    if (!r.ok) throw new ApiError(r.status, (await r.json().catch(() => ({}))).error || r.statusText);
    return r;
  }
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, j.error || r.statusText);
  return j;
}

function forget() {
  session = null;
  sessionStorage.removeItem('bibrec');
}

/* Saves a response body as a file the browser downloads. */
async function download(resp, name) {
  const blob = await resp.blob();
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function fail(e) {
  status(e.status ? `${e.status}: ${e.message}` : String(e.message || e));
}

/* ---- sign-in ------------------------------------------------------------------ */

function loginView() {
  const user = el('input', { name: 'user', id: 'login-user', autocomplete: 'username', required: true });
  const pw = el('input', { name: 'password', id: 'login-password', type: 'password',
    autocomplete: 'current-password', required: true });
  const msg = el('p', { class: 'bad', id: 'login-error' });
  const form = el('form', { id: 'login-form' },
    el('label', {}, 'User', user), el('label', {}, 'Password', pw),
    el('button', { type: 'submit', id: 'login-submit' }, 'Sign in'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const j = await api('POST', '/login', { user: user.value, password: pw.value });
      session = { user: j.user, role: j.role, csrf: j.csrf_token, mustChange: j.password_change_required };
      sessionStorage.setItem('bibrec', JSON.stringify(session));
      location.hash = session.mustChange ? '#/password' : home();
      route();
    } catch (e) {
      msg.textContent = e.status === 429 ? 'Too many attempts: wait and try again.' : 'Wrong user or password.';
    }
  });
  view(el('section', { class: 'card login' }, el('h1', {}, 'Sign in'), form));
  user.focus();
}

function passwordView() {
  const old = el('input', { type: 'password', id: 'pw-old', autocomplete: 'current-password' });
  const nw = el('input', { type: 'password', id: 'pw-new', autocomplete: 'new-password', minlength: 12 });
  const form = el('form', {}, el('label', {}, 'Current password', old),
    el('label', {}, 'New password (12 characters or more)', nw), el('button', { type: 'submit' }, 'Change'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/password', { old_password: old.value, new_password: nw.value });
      forget();
      status('Password changed: sign in with the new one.');
      location.hash = '#/login';
    } catch (e) { fail(e); }
  });
  view(el('section', { class: 'card login' }, el('h1', {}, 'Change your password'), form));
}

function home() {
  if (can('search')) return '#/search';
  if (can('users')) return '#/users';
  return '#/policy';
}

/* ---- search --------------------------------------------------------------------- */

const FIELDS = [
  ['number', 'Number (either party)'], ['dn', 'Recorded line (DN)'], ['device', 'Device'],
  ['from', 'From (YYYY-MM-DD)'], ['to', 'To (exclusive)'], ['min_duration', 'Minimum seconds'],
  ['tag', 'Tag'], ['profile', 'Profile'],
];

function searchView(params) {
  const form = el('form', { class: 'grid', id: 'search-form' });
  for (const [name, label] of FIELDS)
    form.append(el('label', {}, label, el('input', { name, id: `q-${name}`, value: params.get(name) || '' })));
  const basis = el('select', { name: 'basis', id: 'q-basis' }, el('option', { value: '' }, 'any'),
    ['consent', 'contract', 'legal-obligation', 'vital-interests', 'public-task', 'legitimate-interests']
      .map((b) => el('option', { value: b, selected: params.get('basis') === b }, b)));
  const consent = el('select', { name: 'consent', id: 'q-consent' }, el('option', { value: '' }, 'any'),
    el('option', { value: 'yes', selected: params.get('consent') === 'yes' }, 'on consent'),
    el('option', { value: 'no', selected: params.get('consent') === 'no' }, 'other basis'));
  form.append(el('label', {}, 'Lawful basis', basis), el('label', {}, 'Consent', consent),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'search-submit' }, 'Search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = `#/search?${q}`;
  });
  const results = el('div', { id: 'results' });
  view(el('section', { class: 'card' }, el('h1', {}, 'Find recordings'), form),
    el('section', { class: 'card' }, results));
  if ([...params.keys()].length) runSearch(params, results);
  else results.append(el('p', { class: 'muted' }, 'Give any of the fields, or none, and search.'));
}

async function runSearch(params, box) {
  box.replaceChildren(el('p', { class: 'muted' }, 'Searching…'));
  try {
    const j = await api('GET', `/recordings?${params}`);
    const page = j.page, pages = Math.max(1, Math.ceil(j.total / j.per_page));
    const rows = j.recordings.map((r) => el('tr', {
      class: 'click', 'data-id': r.id, onclick: () => { location.hash = `#/rec/${r.id}`; },
    }, el('td', {}, r.start), el('td', {}, r.duration_s.toFixed(1)), el('td', {}, r.near.number),
    el('td', {}, r.far.number), el('td', {}, r.profile), el('td', {}, r.basis),
    el('td', {}, r.state + (r.private ? ', private' : '') + (r.legal_hold ? ', held' : ''))));
    const go = (p) => { params.set('page', p); location.hash = `#/search?${params}`; };
    box.replaceChildren(el('h2', {}, `${j.total} recording${j.total === 1 ? '' : 's'}`),
      table(['Start (UTC)', 'Seconds', 'Line', 'Other party', 'Profile', 'Basis', 'State'], rows),
      el('div', { class: 'pager' },
        el('button', { class: 'secondary', disabled: page <= 1, onclick: () => go(page - 1) }, 'Previous'),
        el('span', {}, `page ${page} of ${pages}`),
        el('button', { class: 'secondary', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next')));
  } catch (e) {
    box.replaceChildren(el('p', { class: 'bad' }, `Search refused: ${e.message}`));
  }
}

/* ---- one recording -------------------------------------------------------------------- */

async function recordingView(id) {
  view(el('p', { class: 'muted' }, 'Loading…'));
  let r;
  try {
    r = await api('GET', `/recordings/${encodeURIComponent(id)}`);
  } catch (e) {
    view(el('section', { class: 'card' }, el('p', { class: 'bad', id: 'rec-error' }, e.message)));
    return;
  }
  const meta = el('dl', { class: 'meta', id: 'rec-meta' });
  const add = (k, v) => meta.append(el('dt', {}, k), el('dd', {}, v === undefined || v === '' ? '–' : v));
  add('Recording', r.id);
  add('Call', r.call);
  add('State', r.state + (r.private ? ', private' : '') + (r.legal_hold ? ', under legal hold' : ''));
  add('Start (UTC)', r.start);
  add('End (UTC)', r.end);
  add('Duration', `${r.duration_s.toFixed(2)} s`);
  add('Recorded line', `${r.near.number} (${r.near.device})`);
  add('Other party', `${r.far.number} (${r.far.device})`);
  add('Profile', r.profile);
  add('Lawful basis', r.basis);
  add('Mode', r.mode);
  add('Kept until', r.retain_until || 'erased on request');
  add('Flags', r.flags);
  add('Tags', (r.tags || []).join(', '));
  add('Consent', r.consent && r.consent !== 'none' ? `${r.consent} (decision ${r.consent_id})` : '');
  const timeline = table(['At (s)', 'What', 'Detail'], (r.timeline || []).map((t) =>
    el('tr', {}, el('td', {}, Number(t.at_s).toFixed(3)), el('td', {}, t.kind),
      el('td', {}, [t.channel, t.digit ? `digit ${t.digit}` : '', t.value || '',
        t.duration_ms ? `${t.duration_ms} ms` : ''].filter(Boolean).join(' ')))));
  const sections = [el('section', { class: 'card' }, el('h1', {}, 'Recording'), meta)];
  if (can('play') && r.state !== 'erased') sections.push(playerSection(r));
  sections.push(el('section', { class: 'card' }, el('h2', {}, 'Timeline'),
    (r.timeline || []).length ? timeline : el('p', { class: 'muted' }, 'Nothing happened during the call.')));
  sections.push(actionsSection(r));
  view(...sections);
}

function playerSection(r) {
  const src = `${API}/recordings/${r.id}/audio`;
  const audio = el('audio', { controls: true, preload: 'metadata', src, id: 'player' });
  const canvas = el('canvas', { class: 'wave', id: 'wave', width: 1000, height: 140 });
  const sec = el('section', { class: 'card' }, el('h2', {}, 'Listen'), audio, canvas,
    el('p', { class: 'legend' }, 'Upper lane: the recorded line (left channel). Lower lane: the other party (right channel).'));
  drawWave(src, canvas).catch((e) => status(`waveform: ${e.message}`));
  return sec;
}

/* Peak level per column, one lane per channel, from the 16-bit stereo WAV. */
async function drawWave(src, canvas) {
  const resp = await fetch(src, { credentials: 'same-origin' });
  if (!resp.ok) throw new Error(resp.statusText);
  const buf = await resp.arrayBuffer();
  const dv = new DataView(buf);
  let pos = 12, data = -1, len = 0, channels = 2;
  while (pos + 8 <= buf.byteLength) {
    const id = String.fromCharCode(dv.getUint8(pos), dv.getUint8(pos + 1), dv.getUint8(pos + 2), dv.getUint8(pos + 3));
    const size = dv.getUint32(pos + 4, true);
    if (id === 'fmt ') channels = dv.getUint16(pos + 10, true);
    if (id === 'data') { data = pos + 8; len = Math.min(size, buf.byteLength - data); break; }
    pos += 8 + size + (size & 1);
  }
  if (data < 0) throw new Error('no audio data');
  const frames = Math.floor(len / (2 * channels)), w = canvas.width, h = canvas.height, lane = h / 2;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#e9edf3';
  ctx.fillRect(0, lane - 0.5, w, 1);
  const colors = ['#1f5fae', '#b35c00'];
  for (let ch = 0; ch < Math.min(channels, 2); ch++) {
    ctx.fillStyle = colors[ch];
    for (let x = 0; x < w; x++) {
      const a = Math.floor((x * frames) / w), b = Math.max(a + 1, Math.floor(((x + 1) * frames) / w));
      let peak = 0;
      for (let f = a; f < b && f < frames; f++) {
        const v = Math.abs(dv.getInt16(data + (f * channels + ch) * 2, true));
        if (v > peak) peak = v;
      }
      const bar = (peak / 32768) * (lane - 4);
      ctx.fillRect(x, ch * lane + lane / 2 - bar / 2, 1, Math.max(1, bar));
    }
  }
  canvas.dataset.drawn = String(frames);
}

function actionsSection(r) {
  const box = el('div', { class: 'actions', id: 'rec-actions' });
  const reason = el('input', { id: 'reason', placeholder: 'reason (required)' });
  const act = (label, fn, cls) => el('button', { class: cls || 'secondary', id: `act-${label.toLowerCase().replace(/\W+/g, '-')}`,
    onclick: async () => { try { await fn(); } catch (e) { fail(e); } } }, label);
  if (can('export') && r.state !== 'erased')
    box.append(act('Export', async () => {
      download(await api('POST', '/export', { ids: [r.id] }, { raw: true }), `bibrec-${r.id}.tar`);
      status('Export ready.');
    }));
  if (can('private') && !r.private && r.state !== 'erased')
    box.append(act('Mark private', async () => { await api('POST', `/recordings/${r.id}/private`, {}); route(); }));
  if (can('hold') && r.state !== 'erased') {
    box.append(r.legal_hold
      ? act('Lift legal hold', async () => { await api('POST', `/recordings/${r.id}/unhold`, {}); route(); })
      : act('Legal hold', async () => {
        if (!reason.value) { status('Give a reason for the hold.'); return; }
        await api('POST', `/recordings/${r.id}/hold`, { reason: reason.value }); route();
      }));
  }
  if (can('delete') && r.state !== 'erased')
    box.append(act('Delete', async () => {
      if (!reason.value) { status('Give a reason for the erasure.'); return; }
      if (!confirm('Erase this recording for good? Its audio can never be recovered.')) return;
      await api('DELETE', `/recordings/${r.id}`, { reason: reason.value }); route();
    }, 'danger'));
  if (can('hold') || can('delete')) box.prepend(el('label', {}, 'Reason', reason));
  return el('section', { class: 'card' }, el('h2', {}, 'Actions'),
    box.childElementCount ? box : el('p', { class: 'muted', id: 'no-actions' }, 'Your role allows no action on this recording.'));
}

/* ---- the auditor's page ------------------------------------------------------------------ */

async function auditView(params) {
  const cp = el('dl', { class: 'meta', id: 'checkpoint' });
  const result = el('div', { id: 'verify-result' });
  const run = el('button', { id: 'verify-run' }, 'Verify now');
  run.addEventListener('click', async () => {
    run.disabled = true;
    const t0 = Date.now();
    const tick = setInterval(() => { result.replaceChildren(el('p', { class: 'muted', id: 'verify-progress' },
      `Verifying every chain and the ledger… ${Math.round((Date.now() - t0) / 1000)} s`)); }, 250);
    try {
      const j = await api('POST', '/verify', {});
      clearInterval(tick);
      result.replaceChildren(el('p', { class: j.ok ? 'ok' : 'bad', id: 'verify-outcome' },
        j.ok ? `Everything verifies (${((Date.now() - t0) / 1000).toFixed(1)} s).` : 'Verification FAILED.'),
      el('pre', { class: 'report' }, j.report + j.messages));
    } catch (e) {
      clearInterval(tick);
      result.replaceChildren(el('p', { class: 'bad' }, e.message));
    }
    run.disabled = false;
  });
  const from = el('input', { name: 'from', id: 'a-from', value: params.get('from') || '' });
  const to = el('input', { name: 'to', id: 'a-to', value: params.get('to') || '' });
  const actor = el('input', { name: 'actor', id: 'a-actor', value: params.get('actor') || '' });
  const action = el('input', { name: 'action', id: 'a-action', value: params.get('action') || '' });
  const form = el('form', { class: 'grid' }, el('label', {}, 'From (YYYY-MM-DD)', from), el('label', {}, 'To', to),
    el('label', {}, 'Actor', actor), el('label', {}, 'Action', action),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Filter')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = `#/audit?${q}`;
  });
  const range = new URLSearchParams();
  if (params.get('from')) range.set('from', params.get('from'));
  if (params.get('to')) range.set('to', params.get('to'));
  const csv = el('a', { href: `${API}/audit?${range}&format=csv`, download: 'audit.csv', id: 'audit-csv' }, 'Download as CSV');
  const trail = el('div', { id: 'audit-trail' }, el('p', { class: 'muted' }, 'Loading…'));
  view(el('section', { class: 'card' }, el('h1', {}, 'Integrity'), el('h2', {}, 'Last signed checkpoint'), cp,
    el('div', { class: 'actions' }, run), result),
  el('section', { class: 'card' }, el('h2', {}, 'Audit trail'), form, el('p', {}, csv), trail));
  try {
    const j = await api('GET', '/checkpoint');
    const add = (k, v) => cp.append(el('dt', {}, k), el('dd', {}, v));
    if (j.checkpoint) {
      add('Checkpoint', `#${j.checkpoint.seq}, signed ${j.checkpoint.time}`);
      add('Covers', `${j.checkpoint.size} of ${j.ledger_size} ledger entries`);
      add('Merkle root', j.checkpoint.root);
    } else {
      add('Checkpoint', `none yet (${j.ledger_size} ledger entries)`);
    }
  } catch (e) { cp.append(el('dd', { class: 'bad' }, e.message)); }
  try {
    const j = await api('GET', `/audit?${range}&format=json`);
    const want = (e) => (!params.get('actor') || e.actor.includes(params.get('actor')))
      && (!params.get('action') || e.action.includes(params.get('action')));
    const rows = j.entries.filter(want).reverse().slice(0, 500).map((e) => el('tr', {},
      el('td', {}, e.seq), el('td', {}, e.time), el('td', {}, e.actor), el('td', {}, e.action),
      el('td', {}, e.target), el('td', { class: e.outcome === 'ok' ? '' : 'bad' }, e.outcome), el('td', {}, e.detail)));
    trail.replaceChildren(table(['#', 'Time (UTC)', 'Who', 'What', 'Target', 'Outcome', 'Detail'], rows));
  } catch (e) { trail.replaceChildren(el('p', { class: 'bad' }, e.message)); }
}

/* ---- the privacy officer's page -------------------------------------------------------------- */

function privacyView() {
  const numbers = el('input', { id: 'p-numbers', placeholder: '+44 20 7946 0001, +44 7700 900123' });
  const reason = el('input', { id: 'p-reason', placeholder: 'e.g. request of 12 May, ticket 4711' });
  const out = el('div', { id: 'p-result' });
  const query = () => ({ numbers: numbers.value.split(',').map((s) => s.trim()).filter(Boolean) });
  const results = (j, title) => out.replaceChildren(el('h2', {}, title),
    j.results.length ? table(['Recording', 'Outcome'], j.results.map((x) => el('tr', {},
      el('td', {}, el('a', { href: `#/rec/${x.id}` }, x.id)),
      el('td', { class: x.result.startsWith('kept') ? 'ok' : '' }, x.result))))
      : el('p', { class: 'muted' }, 'No recording involves these numbers.'));
  const btn = (id, label, fn, cls) => el('button', { id, class: cls || '', type: 'button',
    onclick: async () => { try { await fn(); } catch (e) { fail(e); } } }, label);
  view(el('section', { class: 'card' }, el('h1', {}, 'Data subject requests'),
    el('p', { class: 'muted' }, 'Everything recorded of a person, found by their numbers: a copy (Art. 15 and 20) or erasure (Art. 17). Recordings under legal hold, and those a legal obligation keeps, stay.'),
    el('form', { class: 'grid' }, el('label', {}, 'Numbers (comma-separated)', numbers), el('label', {}, 'Reason (for erasure)', reason)),
    el('div', { class: 'actions' },
      btn('p-preview', 'Preview erasure', async () => results(await api('POST', '/subject/erase', { ...query(), preview: true }), 'What erasure would do')),
      btn('p-export', 'Export everything', async () => {
        download(await api('POST', '/subject/export', query(), { raw: true }), 'subject-export.tar');
        status('Export ready.');
      }, 'secondary'),
      btn('p-erase', 'Erase', async () => {
        if (!reason.value) { status('Give the reason for the erasure.'); return; }
        if (!confirm('Erase every recording of these numbers that may be erased?')) return;
        results(await api('POST', '/subject/erase', { ...query(), reason: reason.value }), 'Erasure done');
      }, 'danger'))),
  el('section', { class: 'card' }, out));
}

/* ---- policy and users ------------------------------------------------------------------------- */

async function policyView() {
  const box = el('section', { class: 'card', id: 'policy' }, el('p', { class: 'muted' }, 'Loading…'));
  view(box);
  try {
    const j = await api('GET', '/policy');
    const parts = [];
    let list = null;
    for (const line of j.markdown.split('\n')) {
      if (line.startsWith('- ')) {
        if (!list) { list = el('ul'); parts.push(list); }
        list.append(el('li', {}, line.slice(2)));
        continue;
      }
      list = null;
      if (line.startsWith('## ')) parts.push(el('h2', {}, line.slice(3)));
      else if (line.startsWith('# ')) parts.push(el('h1', {}, line.slice(2)));
      else if (line.trim()) parts.push(el('p', {}, line));
    }
    box.replaceChildren(...parts);
  } catch (e) { box.replaceChildren(el('p', { class: 'bad' }, e.message)); }
}

async function usersView() {
  const box = el('section', { class: 'card', id: 'users' }, el('h1', {}, 'Users'));
  view(box);
  try {
    const j = await api('GET', '/users');
    box.append(table(['User', 'Role', 'Groups', 'Lines', 'State'], (j.users || []).map((u) => el('tr', {},
      el('td', {}, u.user), el('td', {}, u.role), el('td', {}, (u.groups || []).join(', ')),
      el('td', {}, (u.dns || []).join(', ')), el('td', {}, u.disabled ? 'disabled' : 'active')))),
    el('p', { class: 'muted' }, 'Users are added and changed with `bibrec user` on the server.'));
  } catch (e) { box.append(el('p', { class: 'bad' }, e.message)); }
}

/* ---- routing ---------------------------------------------------------------------------------- */

function showNav() {
  const nav = document.getElementById('nav');
  nav.hidden = !session;
  if (!session) return;
  for (const a of nav.querySelectorAll('a[data-need]')) a.hidden = !can(a.dataset.need);
  document.getElementById('who').textContent = `${session.user} (${session.role})`;
  const here = location.hash.split('?')[0];
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('current', here.startsWith(a.getAttribute('href')));
}

function route() {
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  if (!session && path !== '/login') { location.hash = '#/login'; return; }
  showNav();
  if (path === '/login') loginView();
  else if (path === '/password') passwordView();
  else if (path === '/search' && can('search')) searchView(params);
  else if (path.startsWith('/rec/')) recordingView(decodeURIComponent(path.slice(5)));
  else if (path === '/audit' && can('audit')) auditView(params);
  else if (path === '/privacy' && can('subject')) privacyView();
  else if (path === '/policy') policyView();
  else if (path === '/users' && can('users')) usersView();
  else location.hash = home();
}

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('POST', '/logout', {}); } catch (e) { /* the session is gone either way */ }
  forget();
  location.hash = '#/login';
});
window.addEventListener('hashchange', route);
route();
