/**
 * RTC_INTERFACE pins WebRTC to one local address. werift's interface filter falls back to every
 * interface when the named address is loopback (it never lists loopback itself), so the pin is
 * enforced twice: connectivity checks only from that address (see `onlyFromInterface`), and
 * the answer advertises no other host candidate.
 */
export function keepHostCandidatesOn(sdp: string, address: string): string {
  if (!address) return sdp;
  return sdp
    .split('\r\n')
    .filter((line) => {
      const m = /^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ host/.exec(line);
      return !m || m[1] === address;
    })
    .join('\r\n');
}

/** A werift `iceFilterCandidatePair`: host pairs only from `address`; relayed and reflexive pairs pass. */
export function onlyFromInterface(address: string) {
  return (pair: { localCandidate: { type: string; host: string } }) => pair.localCandidate.type !== 'host' || pair.localCandidate.host === address;
}
