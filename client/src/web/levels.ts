/**
 * Live audio levels (0..1) of the microphone and the reply, from Web Audio analysers created on
 * first use. The value is the RMS of the last ~10 ms, scaled so normal speech reads about 0.3-0.8.
 */
export class LevelMeter {
  private ctx: AudioContext | null = null;
  private readonly analysers = new Map<'input' | 'output', { node: AnalyserNode; source: MediaStreamAudioSourceNode; stream: MediaStream }>();
  /** Streams attached before the AudioContext exists (it is made on the first reading). */
  private readonly streams = new Map<'input' | 'output', MediaStream>();
  private readonly buf = new Float32Array(512);

  /** Measures `stream` as `which` from now on (a new microphone, a new connection's reply). */
  attach(which: 'input' | 'output', stream: MediaStream): void {
    const old = this.analysers.get(which);
    if (old?.stream === stream) return;
    old?.source.disconnect();
    this.analysers.delete(which);
    if (!this.ctx || stream.getAudioTracks().length === 0) {
      this.streams.set(which, stream);
      return;
    }
    const node = this.ctx.createAnalyser();
    node.fftSize = this.buf.length;
    const source = this.ctx.createMediaStreamSource(stream);
    source.connect(node);
    this.analysers.set(which, { node, source, stream });
  }

  level(which: 'input' | 'output'): number {
    if (!this.ctx && typeof AudioContext !== 'undefined') {
      this.ctx = new AudioContext();
      for (const [w, s] of this.streams) this.attach(w, s);
      this.streams.clear();
    }
    const a = this.analysers.get(which);
    if (!a) return 0;
    a.node.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const x of this.buf) sum += x * x;
    return Math.min(1, Math.sqrt(sum / this.buf.length) * 4);
  }

  close(): void {
    for (const a of this.analysers.values()) a.source.disconnect();
    this.analysers.clear();
    this.streams.clear();
    void this.ctx?.close();
    this.ctx = null;
  }
}
