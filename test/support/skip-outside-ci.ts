/**
 * Whether a test file that needs what only some machines give (root for network namespaces,
 * certutil) should be skipped: on a developer's machine it is, with the reason printed; under CI
 * (CI set, as .ci/run runs) the missing capability is an error instead, so the file cannot pass
 * there without having run.
 */
export function skipOutsideCi(name: string, reason: string | null): boolean {
  if (reason === null) return false;
  if (process.env['CI']) throw new Error(`[${name}] cannot run on this CI machine: ${reason}`);
  console.warn(`[${name}] skipped: ${reason}`);
  return true;
}
