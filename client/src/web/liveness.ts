/**
 * Liveness of the media path: a `ping` on the events channel every PING_MS, which the worker
 * answers at once with a `pong`. Once one pong has come back, PONG_LOST_MS without one counts as
 * lost: a dead worker or path is noticed in about two seconds, where the browser's ICE takes 6-8.
 */
export const PING_MS = 500;
export const PONG_LOST_MS = 2000;

export class Liveness {
  pongs = 0;
  private lastPongAt: number | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(channel: RTCDataChannel, onLost: (silentMs: number) => void) {
    this.timer = setInterval(() => {
      if (channel.readyState === 'open') channel.send(JSON.stringify({ type: 'ping', t: Date.now() }));
      const silentMs = this.lastPongAt === null ? 0 : Date.now() - this.lastPongAt;
      if (silentMs > PONG_LOST_MS) {
        this.stop();
        onLost(silentMs);
      }
    }, PING_MS);
  }

  pong(): void {
    this.pongs++;
    this.lastPongAt = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
