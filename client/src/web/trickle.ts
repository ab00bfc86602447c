import type { Edge } from './edge.ts';
import { iceCredentials, sdpFragment } from './sdpfrag.ts';

/**
 * Trickle ICE for one peer connection (WHIP PATCH): the offer goes out before gathering ends,
 * and candidates are sent as they come. Those found before the answer (which names the session)
 * wait and go in one PATCH. One PATCH is in flight at a time, so they arrive in order. A failed
 * PATCH is reported and not retried: trickling only speeds the connection up (the worker also
 * learns the browser's addresses from its connectivity checks).
 */
export class Trickler {
  private pending: string[] = [];
  private ended = false;
  private target: { location: string; etag: string | null } | null = null;
  private sending = false;
  private closed = false;

  private readonly pc: RTCPeerConnection;
  private readonly edge: Edge;
  private readonly onError: (err: unknown) => void;

  constructor(pc: RTCPeerConnection, edge: Edge, onError: (err: unknown) => void) {
    this.pc = pc;
    this.edge = edge;
    this.onError = onError;
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate?.candidate) this.pending.push(e.candidate.candidate);
      else if (!e.candidate) this.ended = true;
      void this.flush();
    });
  }

  /** The session is known: send what was gathered, and what comes next. */
  start(location: string, etag: string | null): void {
    this.target = { location, etag };
    void this.flush();
  }

  close(): void {
    this.closed = true;
  }

  private async flush(): Promise<void> {
    if (this.sending || this.closed || !this.target) return;
    const creds = iceCredentials(this.pc.localDescription?.sdp ?? '');
    if (!creds) return;
    this.sending = true;
    try {
      while (!this.closed && (this.pending.length > 0 || this.ended)) {
        const batch = this.pending;
        const end = this.ended;
        this.pending = [];
        this.ended = false;
        await this.edge.trickle(this.target.location, this.target.etag, sdpFragment(creds, batch, end));
        if (end) this.closed = true;
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.sending = false;
    }
  }
}
