/** The media serializer for each kind of socket stream, by name. */
import type { MediaSerializer } from '../serializer.ts';
import { plivoSerializer } from './plivo.ts';
import { streamSerializer } from './stream.ts';
import { telnyxSerializer } from './telnyx.ts';
import { twilioSerializer } from './twilio.ts';

const SERIALIZERS: Record<MediaSerializer['name'], MediaSerializer> = {
  twilio: twilioSerializer,
  telnyx: telnyxSerializer,
  plivo: plivoSerializer,
  stream: streamSerializer,
};

/** The serializer called `name`; an Error for a name that is not a stream kind. */
export function serializerFor(name: string): MediaSerializer {
  const found = Object.hasOwn(SERIALIZERS, name) ? SERIALIZERS[name as MediaSerializer['name']] : undefined;
  if (!found) throw new Error(`no media serializer named ${JSON.stringify(name.slice(0, 40))}`);
  return found;
}

export { encodeSession, encodeStarted } from './stream.ts';
