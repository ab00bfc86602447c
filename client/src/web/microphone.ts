import { SwitchboardError } from './errors.ts';

/** The microphone a call asks for unless told otherwise: the browser's voice processing on. */
export const defaultAudio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** The microphone, or a `media_denied` SwitchboardError saying why not. */
export async function getMicrophone(constraints: MediaTrackConstraints): Promise<MediaStream> {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: constraints });
  } catch (err) {
    throw new SwitchboardError('media_denied', `microphone: ${String((err as Error)?.message ?? err)}`, { cause: err });
  }
}
