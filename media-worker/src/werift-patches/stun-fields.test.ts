import { describe, expect, it } from 'vitest';
// Messages built by werift's own STUN encoder, so these fields are read from what a real agent sends.
import { classes, Message, methods } from 'werift';
import { integrityValid, recipientUfrag, stunClass, transactionKey } from './stun-fields.ts';

function bindingRequest(username: string | null, password: string | null, fingerprint = true): Message {
  const m = new Message(methods.BINDING, classes.REQUEST);
  if (username !== null) m.setAttribute('USERNAME', username);
  m.setAttribute('PRIORITY', 1853824767);
  if (password !== null) m.addMessageIntegrity(Buffer.from(password, 'utf8'));
  if (fingerprint) m.addFingerprint();
  return m;
}

describe('stun-fields', () => {
  it('tells the four STUN classes apart and refuses DTLS, RTP, RTCP and short or odd datagrams', () => {
    expect(stunClass(bindingRequest('a:b', 'pw').bytes)).toBe('request');
    expect(stunClass(new Message(methods.BINDING, classes.INDICATION).bytes)).toBe('indication');
    expect(stunClass(new Message(methods.BINDING, classes.RESPONSE).bytes)).toBe('success');
    expect(stunClass(new Message(methods.BINDING, classes.ERROR).bytes)).toBe('error');
    const dtls = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, ...new Array(16).fill(0)]);
    expect(stunClass(dtls)).toBeNull();
    expect(stunClass(Buffer.from([0x80, 111, ...new Array(30).fill(0)]))).toBeNull(); // RTP
    expect(stunClass(Buffer.from([0x81, 200, ...new Array(30).fill(0)]))).toBeNull(); // RTCP SR
    expect(stunClass(Buffer.alloc(10))).toBeNull();
    const request = bindingRequest('a:b', 'pw').bytes;
    expect(stunClass(request.subarray(0, request.length - 4))).toBeNull(); // length field disagrees
    const noCookie = Buffer.from(request);
    noCookie.writeUInt32BE(0, 4);
    expect(stunClass(noCookie)).toBeNull();
  });

  it("reads the recipient's username fragment, the part before the colon", () => {
    expect(recipientUfrag(bindingRequest('Ab1x:remoteFrag', 'pw').bytes)).toBe('Ab1x');
    expect(recipientUfrag(bindingRequest(null, 'pw').bytes)).toBeNull();
    expect(recipientUfrag(bindingRequest('nocolon', 'pw').bytes)).toBeNull();
  });

  it('keys a message by its transaction id', () => {
    const m = bindingRequest('a:b', 'pw');
    expect(transactionKey(m.bytes)).toBe(Buffer.from(m.transactionId).toString('latin1'));
    expect(transactionKey(m.bytes)).not.toBe(transactionKey(bindingRequest('a:b', 'pw').bytes));
  });

  it('verifies MESSAGE-INTEGRITY under the right password only, with or without FINGERPRINT after it', () => {
    expect(integrityValid(bindingRequest('a:b', 'the-ice-password-22chr').bytes, 'the-ice-password-22chr')).toBe(true);
    expect(integrityValid(bindingRequest('a:b', 'the-ice-password-22chr', false).bytes, 'the-ice-password-22chr')).toBe(true);
    expect(integrityValid(bindingRequest('a:b', 'the-ice-password-22chr').bytes, 'another-password-22chr')).toBe(false);
    expect(integrityValid(bindingRequest('a:b', null).bytes, 'the-ice-password-22chr')).toBe(false);
    const tampered = Buffer.from(bindingRequest('a:b', 'pw').bytes);
    tampered[tampered.length - 40] = tampered[tampered.length - 40]! ^ 1; // inside PRIORITY or USERNAME
    expect(integrityValid(tampered, 'pw')).toBe(false);
  });
});
