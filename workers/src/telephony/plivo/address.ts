/**
 * A number as Plivo takes it, in its API and its XML: country code and number without `+`
 * (`14155550100`). Anything that is not `+` and digits (a SIP URI, a number already without `+`)
 * is kept as is.
 */
export function plivoNumber(value: string): string {
  const e164 = /^\+(\d+)$/.exec(value);
  return e164?.[1] ?? value;
}
