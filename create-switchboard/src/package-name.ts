/**
 * npm's rules for a package name (those of validate-npm-package-name for new packages): the
 * scaffold's name comes from its directory, and npm refuses to install a project with a bad one.
 */
const MAX_LENGTH = 214;
const URL_SAFE = /^[a-z0-9][a-z0-9._~-]*$/;

/** Why `name` cannot be an npm package name, or undefined when it can. */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} characters`;
  if (name !== name.toLowerCase()) return 'it has capital letters';
  if (name.trim() !== name) return 'it starts or ends with a space';
  const scoped = /^@([^/]+)\/([^/]+)$/.exec(name);
  if (name.startsWith('@') && !scoped) return 'a scoped name is @scope/name';
  const parts = scoped ? [scoped[1]!, scoped[2]!] : [name];
  for (const part of parts) {
    if (part.startsWith('.') || part.startsWith('_')) return 'it starts with . or _';
    if (!URL_SAFE.test(part)) return 'it may only hold lowercase letters, digits and - . _ ~';
  }
  if (['node_modules', 'favicon.ico'].includes(name)) return `${name} is reserved`;
  return undefined;
}
