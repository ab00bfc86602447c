/** `import text from './file?raw'`: the file's contents as a string (wrangler `Text` rule, Vite `?raw`). */
declare module '*?raw' {
  const text: string;
  export default text;
}
