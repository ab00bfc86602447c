import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Debian Chromium with a fake microphone playing `micWav` and autoplay allowed, offline
 * (no background networking, updates or sync). `extraArgs` adds what a test's network needs.
 */
export function launchChromium(o: { micWav: string; executablePath?: string; extraArgs?: string[] }): Promise<Browser> {
  return chromium.launch({
    executablePath: o.executablePath ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${o.micWav}`,
      '--autoplay-policy=no-user-gesture-required',
      // Host candidates as plain addresses, not mDNS names a worker cannot resolve.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      ...(o.extraArgs ?? []),
    ],
  });
}
