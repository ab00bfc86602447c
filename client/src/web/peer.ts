/** One peer connection of a call: the microphone track (send and receive audio) and the `events` data channel. */
export function newPeerConnection(config: RTCConfiguration, mic: MediaStream): { pc: RTCPeerConnection; channel: RTCDataChannel; sender: RTCRtpSender } {
  const pc = new RTCPeerConnection(config);
  const track = mic.getAudioTracks()[0];
  const { sender } = track ? pc.addTransceiver(track, { direction: 'sendrecv', streams: [mic] }) : pc.addTransceiver('audio', { direction: 'sendrecv' });
  const channel = pc.createDataChannel('events');
  return { pc, channel, sender };
}

/** Resolves when `pc` is connected; rejects when it fails or `timeoutMs` passes first. */
export function whenConnected(pc: RTCPeerConnection, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', check);
      signal?.removeEventListener('abort', aborted);
      if (err) fail(err);
      else ok();
    };
    const check = () => {
      if (pc.connectionState === 'connected') done();
      else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') done(new Error(`the connection ${pc.connectionState}`));
    };
    const aborted = () => done(new Error('aborted'));
    const timer = setTimeout(() => done(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
    pc.addEventListener('connectionstatechange', check);
    signal?.addEventListener('abort', aborted);
    check();
  });
}
