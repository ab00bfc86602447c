// The demo client, built on the browser SDK (`/client.js`, @switchboard/client): a call with a
// conversation view, a latency chart, device choice and mute, phone legs dialled into the call (and
// the bot taken out of it and back), and separate outbound phone calls.
// `window.switchboard` exposes state for automated browser tests.
import { connect, listDevices } from '/client.js';

const $ = (id) => document.getElementById(id);
const state = {
  events: [],
  turns: [],
  sessionUrl: null,
  status: 'idle',
  /** The current call's legs by id: {legId, kind, to?, state: 'dialing'|'joined'|'left', reason?, self?}. */
  legs: {},
  /** Whether the bot is in the call, as the worker last confirmed. */
  bot: true,
  call: null,
  get pc() {
    return this.call?.peerConnection ?? null;
  },
  get pongs() {
    return this.call?.pongs ?? 0;
  },
};
window.switchboard = state;

function setStatus(s) {
  state.status = s;
  $('state').textContent = s;
  $('state').dataset.state = s;
}

function log(event) {
  state.events.push(event);
  const li = document.createElement('li');
  li.textContent = JSON.stringify(event);
  $('log').append(li);
  $('log').scrollTop = $('log').scrollHeight;
}

function say(role, text, cls) {
  const li = document.createElement('li');
  li.className = [role, cls].filter(Boolean).join(' ');
  li.textContent = text;
  $('conversation').append(li);
  return li;
}

/** The conversation: transcripts when the handler sends them, else a line per turn. */
function onEvent(e) {
  log(e);
  if (e.type === 'transcript' && e.final !== false) say(e.role, e.text, e.interrupted ? 'cut' : '');
  else if (e.type === 'leg.joined') {
    upsertLeg(e.legId, { kind: e.kind, state: 'joined' });
    say('note', `${legName(e.legId)} joined`);
    if (state.call) void refreshLegs(state.call);
  } else if (e.type === 'leg.left') {
    upsertLeg(e.legId, { state: 'left', reason: e.reason });
    say('note', `${legName(e.legId)} left (${e.reason})`);
  } else if (e.type === 'bot') showBot(e.active);
  else if (e.type === 'interrupted') say('note', `you interrupted turn ${e.turn} after ${Math.round(e.playedMs)} ms`);
  else if (e.type === 'metrics') {
    state.turns.push(e);
    addTurnRow(e);
    drawChart();
  }
}

// Legs: the SDK's addLeg/removeLeg/legs and its leg.joined / leg.left events. A leg's state only
// moves forward (dialing, joined, left), so a status read older than an event cannot undo it.
const RANK = { dialing: 0, joined: 1, left: 2 };

function legName(legId) {
  const l = state.legs[legId];
  return l?.self ? 'you' : l?.to ?? legId;
}

function upsertLeg(legId, patch) {
  const prev = state.legs[legId] ?? { legId };
  const next = { ...prev, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  if (prev.state && RANK[prev.state] > RANK[next.state]) next.state = prev.state;
  state.legs[legId] = next;
  renderLegs();
}

async function refreshLegs(c) {
  try {
    const legs = await c.legs();
    if (state.call !== c) return;
    for (const l of legs) upsertLeg(l.legId, { kind: l.kind, to: l.to, state: l.state, reason: l.reason, self: l.legId === c.sessionId });
  } catch (err) {
    log({ type: 'error', code: err.code, message: err.message });
  }
}

function renderLegs() {
  const rows = Object.values(state.legs).map((l) => {
    const tr = Object.assign(document.createElement('tr'), { id: `leg-${l.legId}` });
    const cell = (text) => Object.assign(document.createElement('td'), { textContent: text });
    const st = Object.assign(cell(l.state === 'left' && l.reason ? `left (${l.reason})` : l.state), { className: 'leg-state' });
    st.dataset.state = l.state;
    const act = cell('');
    const b = Object.assign(document.createElement('button'), { type: 'button', className: 'leg-hangup', textContent: 'Hang up', disabled: l.state === 'left' });
    b.onclick = () => removeLeg(l.legId, b);
    if (!l.self) act.append(b);
    tr.append(cell(l.self ? 'you (this browser)' : (l.kind ?? 'phone')), cell(l.to ?? ''), st, act);
    return tr;
  });
  $('legs').querySelector('tbody').replaceChildren(...rows);
}

/** Dials a number into the current call (POST /v1/sessions/{id}/legs). */
async function addLeg(e) {
  e.preventDefault();
  const c = state.call;
  if (!c) return;
  const to = $('leg-phone').value.trim();
  $('leg-add').disabled = true;
  try {
    const { legId } = await c.addLeg(to);
    upsertLeg(legId, { kind: 'phone', to, state: 'dialing' });
    $('leg-result').textContent = `dialing ${to}`;
    void refreshLegs(c);
  } catch (err) {
    $('leg-result').textContent = `${err.code ?? 'error'}: ${err.message ?? err}`;
  } finally {
    $('leg-add').disabled = false;
  }
}

async function removeLeg(legId, button) {
  const c = state.call;
  if (!c) return;
  button.disabled = true;
  try {
    const st = await c.removeLeg(legId);
    upsertLeg(legId, { state: st.state, reason: st.reason });
  } catch (err) {
    button.disabled = false;
    log({ type: 'error', code: err.code, message: err.message });
  }
}

let botTimer;
/** Asks the worker to take the bot out of the call or back; the page shows the worker's answer (`bot`). */
function toggleBot() {
  const c = state.call;
  const want = !state.bot;
  if (!c?.setBot(want)) return;
  $('bot').disabled = true;
  $('bot-state').textContent = want ? 'asking the bot back…' : 'asking the bot to leave…';
  clearTimeout(botTimer);
  botTimer = setTimeout(() => showBot(state.bot, 'no answer from the worker; '), 5000);
}

function showBot(active, note = '') {
  clearTimeout(botTimer);
  state.bot = active;
  $('bot').disabled = !state.call;
  $('bot').setAttribute('aria-pressed', String(active));
  $('bot-state').dataset.active = String(active);
  $('bot-state').textContent = `${note}bot ${active ? 'in' : 'out of'} the call`;
}

function addTurnRow(m) {
  const tr = document.createElement('tr');
  for (const v of [m.turn, m.endOfSpeechToFirstFrameMs.toFixed(1), m.handlerFirstFrameMs.toFixed(1)]) {
    const td = document.createElement('td');
    td.textContent = String(v);
    tr.append(td);
  }
  $('turns').querySelector('tbody').append(tr);
}

/** Bars of end-of-speech → first reply frame for the last 30 turns. */
function drawChart() {
  const svg = $('chart');
  const turns = state.turns.slice(-30);
  const max = Math.max(200, ...turns.map((t) => t.endOfSpeechToFirstFrameMs));
  const w = 600 / 30;
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  turns.forEach((t, i) => {
    const h = (t.endOfSpeechToFirstFrameMs / max) * 130;
    const rect = document.createElementNS(ns, 'rect');
    Object.entries({ x: i * w + 2, y: 140 - h, width: w - 4, height: h }).forEach(([k, v]) => rect.setAttribute(k, String(v)));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `turn ${t.turn}: ${t.endOfSpeechToFirstFrameMs.toFixed(0)} ms`;
    rect.append(title);
    const label = document.createElementNS(ns, 'text');
    Object.entries({ x: i * w + 2, y: 154 }).forEach(([k, v]) => label.setAttribute(k, String(v)));
    label.textContent = String(t.turn);
    svg.append(rect, label);
  });
  const top = document.createElementNS(ns, 'text');
  top.setAttribute('x', '4');
  top.setAttribute('y', '12');
  top.textContent = `${max.toFixed(0)} ms`;
  svg.append(top);
}

async function fillDevices() {
  const { inputs, outputs } = await listDevices().catch(() => ({ inputs: [], outputs: [] }));
  for (const [select, list] of [[$('mic-device'), inputs], [$('spk-device'), outputs]]) {
    const chosen = select.value;
    select.replaceChildren(new Option('default', ''), ...list.filter((d) => d.deviceId && d.deviceId !== 'default').map((d) => new Option(d.label || d.deviceId.slice(0, 8), d.deviceId)));
    select.value = chosen;
  }
}

/** Meters from the call's live levels while it lasts. */
function meters(call) {
  const tick = () => {
    if (state.call !== call) return;
    const { input, output } = call.levels();
    $('mic').value = input;
    $('spk').value = output;
    requestAnimationFrame(tick);
  };
  tick();
}

async function call() {
  $('call').disabled = true;
  setStatus('connecting');
  const micId = $('mic-device').value;
  try {
    const c = await connect({
      url: location.origin,
      audio: { echoCancellation: true, noiseSuppression: true, ...(micId ? { deviceId: { exact: micId } } : {}) },
      output: $('remote'),
      // `?relay=1` forces the call through the TURN relay.
      ...(new URLSearchParams(location.search).get('relay') === '1' ? { iceTransportPolicy: 'relay' } : {}),
      on: {
        event: onEvent,
        state: (s) => {
          // 'connected' shows once connect() has returned the call (below).
          if (state.call || s !== 'connected') setStatus(s);
          if (s === 'ended' || s === 'failed') done(s);
        },
        reconnecting: ({ reason, attempt }) => {
          if (attempt === 1 && reason === 'liveness') log({ type: 'liveness', message: 'no pong from the worker' });
          log({ type: 'reconnecting', reason, attempt });
        },
        reconnected: (r) => log({ type: 'reconnected', ...r }),
        warning: (err) => log({ type: 'error', code: err.code, message: err.message }),
      },
    });
    state.call = c;
    state.sessionUrl = new URL(c.sessionUrl).pathname;
    setStatus(c.state);
    $('hangup').disabled = false;
    $('mute').disabled = false;
    state.legs = {};
    renderLegs();
    showBot(true);
    $('leg-result').textContent = '';
    $('legs-panel').hidden = false;
    say('note', `connected: session ${c.sessionId}`);
    meters(c);
    if ($('spk-device').value) await c.setOutputDevice($('spk-device').value).catch((err) => log({ type: 'error', message: err.message }));
    void fillDevices();
  } catch (err) {
    log({ type: 'error', code: err.code, message: String(err.message ?? err) });
    setStatus('failed');
    done('failed');
  }
}

function done(s) {
  state.call = null;
  state.sessionUrl = null;
  $('hangup').disabled = true;
  $('mute').disabled = true;
  $('mute').setAttribute('aria-pressed', 'false');
  $('legs-panel').hidden = true;
  showBot(true);
  $('call').disabled = false;
  $('mic').value = 0;
  $('spk').value = 0;
  if (s === 'ended') setStatus('idle');
}

async function hangup() {
  const c = state.call;
  await c?.hangup();
}

function toggleMute() {
  const c = state.call;
  if (!c) return;
  c.mute(!c.muted);
  $('mute').setAttribute('aria-pressed', String(c.muted));
  $('mute').textContent = c.muted ? 'Unmute' : 'Mute';
}

/** A separate outbound call (POST /v1/calls): the phone rings and the same handler answers; no browser in it. */
async function dial(e) {
  e.preventDefault();
  $('dial-button').disabled = true;
  try {
    const res = await fetch('/v1/calls', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: $('phone').value.trim() }) });
    const body = await res.json().catch(() => ({}));
    $('dial-result').textContent = res.ok ? `calling: session ${body.sessionId}` : `${res.status}: ${body.error?.message ?? res.statusText}`;
  } catch (err) {
    $('dial-result').textContent = String(err.message ?? err);
  } finally {
    $('dial-button').disabled = false;
  }
}

$('call').onclick = call;
$('hangup').onclick = hangup;
$('mute').onclick = toggleMute;
$('dial').onsubmit = dial;
$('leg-dial').onsubmit = addLeg;
$('bot').onclick = toggleBot;
$('mic-device').onchange = () => $('mic-device').value && state.call?.setInputDevice($('mic-device').value).catch((err) => log({ type: 'error', message: err.message }));
$('spk-device').onchange = () => $('spk-device').value && state.call?.setOutputDevice($('spk-device').value).catch((err) => log({ type: 'error', message: err.message }));
void fillDevices();
