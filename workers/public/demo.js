// The demo client: WHIP (RFC 9725) to /v1/sessions, the `events` data channel, meters, a turn table.
// `window.switchboard` exposes state for automated browser tests.
const $ = (id) => document.getElementById(id);
const state = { events: [], turns: [], sessionUrl: null, pc: null, status: 'idle' };
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

function meter(stream, el) {
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
    if (state.pc) requestAnimationFrame(tick);
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

async function call() {
  $('call').disabled = true;
  setStatus('connecting');
  try {
    const ice = await (await fetch('/v1/ice-servers')).json();
    // `?relay=1` forces the call through the TURN relay (iceTransportPolicy 'relay').
    const relayOnly = new URLSearchParams(location.search).get('relay') === '1';
    const pc = new RTCPeerConnection({ iceServers: ice.iceServers, ...(relayOnly ? { iceTransportPolicy: 'relay' } : {}) });
    state.pc = pc;
    const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    meter(mic, $('mic'));
    pc.addTransceiver(mic.getAudioTracks()[0], { direction: 'sendrecv', streams: [mic] });
    const events = pc.createDataChannel('events');
    events.onmessage = (e) => log(JSON.parse(e.data));
    pc.ontrack = (e) => {
      const stream = e.streams[0] ?? new MediaStream([e.track]);
      $('remote').srcObject = stream;
      meter(stream, $('spk'));
    };
    pc.onconnectionstatechange = () => {
      setStatus(pc.connectionState);
      if (pc.connectionState === 'failed') hangup();
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch('/v1/sessions', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (res.status !== 201) {
      const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
      throw new Error(`${res.status}: ${err.error?.message ?? 'failed'}`);
    }
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
  const pc = state.pc;
  state.pc = null;
  pc?.close();
  if (state.sessionUrl) await fetch(state.sessionUrl, { method: 'DELETE' }).catch(() => {});
  state.sessionUrl = null;
  if (state.status !== 'failed') setStatus('idle');
  $('call').disabled = false;
}

$('call').onclick = call;
$('hangup').onclick = hangup;
