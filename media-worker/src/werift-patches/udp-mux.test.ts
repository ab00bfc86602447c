import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// STUN messages built by werift's own encoder: what a real ICE agent sends.
import { classes, Message, methods } from 'werift';
import { MAX_ADDRESSES_PER_SESSION, UdpMux, type Addr, type MuxTransport } from './udp-mux.ts';

function request(username: string, password: string): Message {
  const m = new Message(methods.BINDING, classes.REQUEST);
  m.setAttribute('USERNAME', username).setAttribute('PRIORITY', 1853824767);
  m.addMessageIntegrity(Buffer.from(password, 'utf8')).addFingerprint();
  return m;
}
const RTP = Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0xbb]);
const from = (port: number, address = '127.0.0.1') => ({ address, port });

/** A transport of `mux` that records what is routed to it. */
function session(mux: UdpMux, ufrag: string, password: string): MuxTransport & { got: [Buffer, Addr][] } {
  const t = Object.assign(mux.transport(), { got: [] as [Buffer, Addr][] });
  t.onData = (data, addr) => t.got.push([data, addr]);
  t.addUfrag(ufrag, password);
  return t;
}

describe('UdpMux routing (datagrams handed to receive())', () => {
  let mux: UdpMux;
  beforeAll(async () => {
    mux = await UdpMux.bind(0, '127.0.0.1');
  });
  afterAll(() => mux.close());

  it('routes a verified binding request by fragment, then that address\'s media to the same session', () => {
    const a = session(mux, 'aaaa', 'password-of-a-22-chars');
    const b = session(mux, 'bbbb', 'password-of-b-22-chars');
    mux.receive(request('aaaa:peer', 'password-of-a-22-chars').bytes, from(40001));
    mux.receive(RTP, from(40001));
    expect(a.got.map(([, addr]) => addr)).toEqual([['127.0.0.1', 40001], ['127.0.0.1', 40001]]);
    expect(a.got[1]![0]).toBe(RTP);
    expect(b.got).toHaveLength(0);
    void a.close();
    void b.close();
  });

  it('drops requests for unknown fragments or with a wrong integrity, and media from addresses nobody verified', () => {
    const a = session(mux, 'cccc', 'password-of-c-22-chars');
    const before = { ...mux.counters };
    mux.receive(request('zzzz:peer', 'password-of-c-22-chars').bytes, from(40002));
    mux.receive(request('cccc:peer', 'not-the-password-22chr').bytes, from(40003));
    mux.receive(RTP, from(40003));
    mux.receive(Buffer.from([22, 0xfe, 0xfd, 1, 2, 3]), from(40004));
    expect(a.got).toHaveLength(0);
    expect(mux.counters.dropped - before.dropped).toBe(3);
    expect(mux.counters.unverified - before.unverified).toBe(1);
    void a.close();
  });

  it("routes a STUN response to the session that sent the request, whatever address it comes from", async () => {
    const a = session(mux, 'dddd', 'password-of-d-22-chars');
    const b = session(mux, 'eeee', 'password-of-e-22-chars');
    const sink = createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    const check = request('peer:eeee', 'the-peers-password-22c');
    await b.send(check.bytes, ['127.0.0.1', sink.address().port]);
    const response = new Message(methods.BINDING, classes.RESPONSE, check.transactionId);
    mux.receive(response.bytes, from(40005));
    mux.receive(new Message(methods.BINDING, classes.RESPONSE).bytes, from(40005));
    expect(b.got.map(([d]) => d)).toEqual([response.bytes]);
    expect(a.got).toHaveLength(0);
    sink.close();
    void a.close();
    void b.close();
  });

  it('moves an address to the session that verified it last, keeps old fragments after a restart, and bounds addresses', () => {
    const a = session(mux, 'ffff', 'password-of-f-22-chars');
    const b = session(mux, 'gggg', 'password-of-g-22-chars');
    mux.receive(request('ffff:p', 'password-of-f-22-chars').bytes, from(40010));
    mux.receive(request('gggg:p', 'password-of-g-22-chars').bytes, from(40010));
    mux.receive(RTP, from(40010));
    expect(b.got.at(-1)![0]).toBe(RTP);
    expect(a.addresses).toEqual([]);
    // An ICE restart's new credentials route to the same session; the old ones still do.
    a.addUfrag('fff2', 'new-password-of-f-22ch');
    mux.receive(request('fff2:p', 'new-password-of-f-22ch').bytes, from(40011));
    mux.receive(request('ffff:p', 'password-of-f-22-chars').bytes, from(40012));
    expect(a.addresses).toEqual(['127.0.0.1|40011', '127.0.0.1|40012']);
    for (let i = 0; i < 20; i++) mux.receive(request('ffff:p', 'password-of-f-22-chars').bytes, from(41000 + i));
    expect(a.addresses).toHaveLength(MAX_ADDRESSES_PER_SESSION);
    const got = a.got.length;
    mux.receive(RTP, from(40011)); // forgotten: the oldest went first
    mux.receive(RTP, from(41019));
    expect(a.got.length - got).toBe(1);
    expect(() => b.addUfrag('ffff', 'x')).toThrow(/already in use/);
    void a.close();
    void b.close();
  });

  it('hands out username fragments no session of the socket uses', () => {
    const a = session(mux, 'cafe0001', 'password-of-a-22-chars');
    const tried = ['cafe0001', 'cafe0001', 'beef0002'];
    expect(mux.freshUfrag(() => tried.shift()!)).toBe('beef0002');
    expect(mux.freshUfrag()).toMatch(/^[0-9a-f]{8}$/);
    void a.close();
  });

  it('forgets a closed session: its fragments and addresses route nowhere, and the socket stays open', async () => {
    const a = session(mux, 'hhhh', 'password-of-h-22-chars');
    mux.receive(request('hhhh:p', 'password-of-h-22-chars').bytes, from(40020));
    await a.close();
    const got = a.got.length;
    mux.receive(RTP, from(40020));
    mux.receive(request('hhhh:p', 'password-of-h-22-chars').bytes, from(40020));
    expect(a.got.length).toBe(got);
    expect(mux.sessions).toBe(0);
    expect(mux.port).toBeGreaterThan(0);
  });

  it('answers real datagrams on the socket: a session replies from the one port', async () => {
    const a = session(mux, 'iiii', 'password-of-i-22-chars');
    a.onData = (data, addr) => void a.send(Buffer.concat([Buffer.from('echo:'), data.subarray(0, 2)]), addr);
    const peer: Socket = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    const replies: Buffer[] = [];
    peer.on('message', (m, rinfo) => {
      expect(rinfo.port).toBe(mux.port);
      replies.push(m);
    });
    peer.send(request('iiii:p', 'password-of-i-22-chars').bytes, mux.port, '127.0.0.1');
    peer.send(RTP, mux.port, '127.0.0.1');
    const deadline = Date.now() + 2000;
    while (replies.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(replies).toHaveLength(2);
    peer.close();
    await a.close();
  });

  it('sends to a host name through a DNS lookup, and reports one that does not resolve', async () => {
    const a = session(mux, 'jjjj', 'password-of-j-22-chars');
    const peer: Socket = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    const got = new Promise<Buffer>((r) => peer.once('message', r));
    await a.send(RTP, ['localhost', peer.address().port]);
    expect(await got).toEqual(RTP);
    await expect(a.send(RTP, ['no-such-host.invalid', 3478])).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);
    peer.close();
    await a.close();
  });

  it('shares one bound mux per port and address in the process, and reports a port in use', async () => {
    const one = await UdpMux.shared(0, '127.0.0.1');
    expect(await UdpMux.shared(0, '127.0.0.1')).toBe(one);
    await expect(UdpMux.bind(one.port, '127.0.0.1')).rejects.toThrow(new RegExp(`RTC_UDP_PORT ${one.port} on 127.0.0.1: .*EADDRINUSE`));
    await one.close();
  });
});
