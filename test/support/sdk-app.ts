/**
 * A web application built on the browser SDK, bundled by the SDK test with esbuild and served from
 * its own origin (so every call to the edge is cross-origin, as in production): it exposes the
 * SDK as `window.sdk` for the test to drive, and renders a React component on `useCall()`.
 */
import { createElement as h, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { SwitchboardError, connect, listDevices } from '@switchboard/client';
import { useCall } from '@switchboard/client/react';

declare global {
  interface Window {
    sdk: { connect: typeof connect; listDevices: typeof listDevices; SwitchboardError: typeof SwitchboardError };
    EDGE_URL: string;
  }
}

window.sdk = { connect, listDevices, SwitchboardError };

function App() {
  const call = useCall({ url: window.EDGE_URL });
  const [error, setError] = useState('');
  return h(
    'main',
    null,
    h('span', { id: 'state' }, call.state),
    h('button', { id: 'connect', onClick: () => call.connect().catch((e: Error) => setError(e.message)) }, 'Call'),
    h('button', { id: 'mute', onClick: () => call.mute(!call.muted) }, call.muted ? 'Unmute' : 'Mute'),
    h('button', { id: 'hangup', onClick: () => void call.hangup() }, 'Hang up'),
    h('span', { id: 'muted' }, String(call.muted)),
    h('span', { id: 'session' }, call.sessionId ?? ''),
    h('span', { id: 'error' }, error),
    h('ol', { id: 'transcript' }, ...call.transcript.map((t, i) => h('li', { key: i, className: t.role }, t.text))),
    h('span', { id: 'turns' }, String(call.metrics.length)),
  );
}

createRoot(document.getElementById('root')!).render(h(App));
