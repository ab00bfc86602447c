/** The Opus payload type and fmtp a browser offered (Chrome: 111, `minptime=10;useinbandfec=1`). */
export interface OfferedOpus {
  payloadType: number;
  channels: number;
  fmtp: string;
}

export function findOfferedOpus(sdp: string): OfferedOpus | null {
  const audio = sdp.split(/\r?\n(?=m=)/).find((s) => s.startsWith('m=audio'));
  if (!audio) return null;
  const m = /^a=rtpmap:(\d+) opus\/48000(?:\/(\d))?\s*$/im.exec(audio);
  if (!m) return null;
  const pt = Number(m[1]);
  const fmtp = new RegExp(`^a=fmtp:${pt} (.+?)\\s*$`, 'm').exec(audio)?.[1] ?? 'minptime=10;useinbandfec=1';
  return { payloadType: pt, channels: Number(m[2] ?? 1), fmtp };
}
