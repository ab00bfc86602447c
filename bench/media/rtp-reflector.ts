/**
 * A transport-only echo server for calibrating the load generator: `node bench/media/rtp-reflector.ts
 * [port]` speaks the plainOffer signaling (POST /offer -> 201 answer + Location, DELETE
 * /sessions/<id>) and sends every RTP packet straight back (werift, ICE-lite on 127.0.0.1, no
 * decode or encode). Its cost is the floor of any WebRTC echo on werift; the load generator's
 * own limits are measured against it. Prints `listening <url>` when ready.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { keepHostCandidatesOn, onlyFromInterface } from '../../media-worker/src/transport/webrtc/host-candidates.ts';

const port = Number(process.argv[2] ?? 0);
const sessions = new Map<string, RTCPeerConnection>();
let nextId = 1;

async function answer(offer: string): Promise<{ id: string; sdp: string }> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' })] },
    iceServers: [],
    iceLite: true,
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: onlyFromInterface('127.0.0.1'),
  });
  // werift fires onTrack inside setRemoteDescription: subscribe first.
  pc.onTrack.subscribe((track) => {
    const sender = pc.getTransceivers().find((x) => x.kind === 'audio')?.sender;
    track.onReceiveRtp.subscribe((rtp) => void sender?.sendRtp(rtp).catch(() => {}));
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const t = pc.getTransceivers().find((x) => x.kind === 'audio');
  if (!t) throw new Error('no audio m-line');
  t.setDirection('sendrecv');
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise<void>((r) => {
    if (pc.iceGatheringState === 'complete') r();
    else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r());
  });
  const id = String(nextId++);
  sessions.set(id, pc);
  pc.connectionStateChange.subscribe((s) => {
    if (s === 'closed' || s === 'failed') sessions.delete(id);
  });
  return { id, sdp: keepHostCandidatesOn(pc.localDescription!.sdp, '127.0.0.1') };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const server = createServer((req, res) => {
  void (async () => {
    try {
      if (req.method === 'POST' && req.url === '/offer') {
        const { id, sdp } = await answer(await body(req));
        res.writeHead(201, { 'Content-Type': 'application/sdp', Location: `/sessions/${id}` }).end(sdp);
      } else if (req.method === 'DELETE' && req.url?.startsWith('/sessions/')) {
        const id = req.url.slice('/sessions/'.length);
        const pc = sessions.get(id);
        sessions.delete(id);
        await pc?.close();
        res.writeHead(pc ? 204 : 404).end();
      } else res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500).end((err as Error).message);
    }
  })();
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`listening http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`);
});
const stop = () => {
  server.close();
  void Promise.all([...sessions.values()].map((pc) => pc.close())).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
