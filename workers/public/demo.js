// The demo client: WHIP (RFC 9725) to /v1/sessions, the `events` data channel, meters, a turn table,
// and a resume (POST /v1/sessions/{id}/resume with a new peer connection) when the connection is lost.
// `window.switchboard` exposes state for automated browser tests.
const $ = (id) => document.getElementById(id);
const state = { events: [], turns: [], sessionUrl: null, pc: null, status: 'idle', everConnected: false, lostAt: null, resumes: 0, resuming: false, pongs: 0 };
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
  if (event.type === 'metrics') {
    state.turns.push(event);
    const tr = document.createElement('tr');
    for (const v of [event.turn, event.endOfSpeechToFirstFrameMs.toFixed(1), event.handlerFirstFrameMs.toFixed(1)]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    $('turns').querySelector('tbody').append(tr);
  }
}

/** Draws a stream's level into a <meter> while `alive()` holds. */
function meter(stream, el, alive) {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const tick = () => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const x of buf) sum += x * x;
    el.value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
    if (alive()) requestAnimationFrame(tick);
    else ctx.close();
  };
  tick();
}

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
    });
  });
}

// The edge keeps a session whose connection was lost resumable this long (RESUME_WINDOW_MS).
const RESUME_WINDOW_MS = 30_000;
// 'disconnected' often heals by itself; this long without healing counts as lost.
const DISCONNECTED_MS = 2000;
// Liveness: a `ping` on the events channel every PING_MS, which the worker answers with a `pong`
// at once. Once one pong has come back on a connection, PONG_LOST_MS without one counts as lost:
// a dead worker or path is noticed in about two seconds, where the browser's ICE takes 6-8.
const PING_MS = 500;
const PONG_LOST_MS = 2000;
let pcConfig = null;
let mic = null;
let disconnectedTimer = null;

/** A peer connection with the microphone track and the `events` data channel, wired to the page. */
function newPeer() {
  const pc = new RTCPeerConnection(pcConfig);
  pc.addTransceiver(mic.getAudioTracks()[0], { direction: 'sendrecv', streams: [mic] });
  const events = pc.createDataChannel('events');
  let lastPongAt = null;
  events.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'pong') {
      lastPongAt = Date.now();
      state.pongs++;
    }
    else log(msg);
  };
  const liveness = setInterval(() => {
    if (state.pc !== pc) return clearInterval(liveness);
    if (events.readyState === 'open') events.send(JSON.stringify({ type: 'ping', t: Date.now() }));
    if (lastPongAt !== null && Date.now() - lastPongAt > PONG_LOST_MS && state.everConnected) {
      clearInterval(liveness);
      log({ type: 'liveness', message: `no pong for ${Date.now() - lastPongAt} ms` });
      void reconnect();
    }
  }, PING_MS);
  pc.ontrack = (e) => {
    const stream = e.streams[0] ?? new MediaStream([e.track]);
    $('remote').srcObject = stream;
    meter(stream, $('spk'), () => state.pc === pc);
  };
  pc.onconnectionstatechange = () => onConnectionState(pc);
  return pc;
}

/** Sends `pc`'s offer (once its candidates are gathered) to `url`. */
async function postOffer(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
}

async function errorOf(res) {
  const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
  return `${res.status}: ${err.error?.message ?? 'failed'}`;
}

function onConnectionState(pc) {
  if (pc !== state.pc) return;
  const s = pc.connectionState;
  clearTimeout(disconnectedTimer);
  if (s === 'connected') {
    state.everConnected = true;
    if (state.lostAt !== null) {
      log({ type: 'reconnected', afterMs: Date.now() - state.lostAt, resumes: state.resumes });
      state.lostAt = null;
    }
    setStatus('connected');
  } else if (s === 'failed') {
    // A call that never connected is not resumed: the network does not let it through.
    if (state.everConnected) void reconnect();
    else {
      setStatus('failed');
      void hangup();
    }
  } else if (s === 'disconnected' && state.everConnected) {
    disconnectedTimer = setTimeout(() => {
      if (state.pc === pc && pc.connectionState === 'disconnected') void reconnect();
    }, DISCONNECTED_MS);
  } else if (state.lostAt === null) setStatus(s);
}

/**
 * The connection was lost: a new peer connection (same microphone, same `events` channel) offers
 * again to the session's resume URL until an answer comes, the edge refuses for good (the session
 * ended: 404, 409, 410) or the resume window passes. The session keeps its id.
 */
async function reconnect() {
  if (state.resuming || !state.sessionUrl) return;
  state.resuming = true;
  state.lostAt ??= Date.now();
  const deadline = state.lostAt + RESUME_WINDOW_MS;
  setStatus('reconnecting');
  try {
    while (state.sessionUrl && Date.now() < deadline) {
      state.pc?.close();
      const pc = newPeer();
      state.pc = pc;
      log({ type: 'reconnecting', attempt: state.resumes + 1 });
      let waitMs = 1000;
      try {
        const res = await postOffer(pc, `${state.sessionUrl}/resume`);
        if (state.pc !== pc) return;
        if (res.status === 201) {
          state.resumes++;
          await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
          return;
        }
        const message = await errorOf(res);
        if (res.status !== 503 && res.status !== 502 && res.status !== 429) throw Object.assign(new Error(message), { fatal: true });
        waitMs = Number(res.headers.get('Retry-After') ?? '1') * 1000;
        log({ type: 'error', message: `resume: ${message}` });
      } catch (err) {
        if (err.fatal) throw err;
        log({ type: 'error', message: `resume: ${String(err.message ?? err)}` });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(waitMs, deadline - Date.now()))));
    }
    if (state.sessionUrl) throw new Error(`could not reconnect within ${RESUME_WINDOW_MS / 1000} s`);
  } catch (err) {
    log({ type: 'error', message: `resume: ${String(err.message ?? err)}` });
    setStatus('failed');
    await hangup();
  } finally {
    state.resuming = false;
  }
}

async function call() {
  $('call').disabled = true;
  setStatus('connecting');
  Object.assign(state, { everConnected: false, lostAt: null, resumes: 0 });
  try {
    const ice = await (await fetch('/v1/ice-servers')).json();
    // `?relay=1` forces the call through the TURN relay (iceTransportPolicy 'relay').
    const relayOnly = new URLSearchParams(location.search).get('relay') === '1';
    pcConfig = { iceServers: ice.iceServers, ...(relayOnly ? { iceTransportPolicy: 'relay' } : {}) };
    mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    meter(mic, $('mic'), () => state.pc !== null);
    const pc = newPeer();
    state.pc = pc;
    const res = await postOffer(pc, '/v1/sessions');
    if (res.status !== 201) throw new Error(await errorOf(res));
    state.sessionUrl = res.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    $('hangup').disabled = false;
  } catch (err) {
    log({ type: 'error', message: String(err.message ?? err) });
    setStatus('failed');
    await hangup();
  }
}

async function hangup() {
  $('hangup').disabled = true;
  clearTimeout(disconnectedTimer);
  const pc = state.pc;
  state.pc = null;
  pc?.close();
  mic?.getTracks().forEach((t) => t.stop());
  mic = null;
  if (state.sessionUrl) await fetch(state.sessionUrl, { method: 'DELETE' }).catch(() => {});
  state.sessionUrl = null;
  if (state.status !== 'failed') setStatus('idle');
  $('call').disabled = false;
}

$('call').onclick = call;
$('hangup').onclick = hangup;
