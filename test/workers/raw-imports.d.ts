// Vite's `?raw` imports: a file's text as a string (used to load examples/ into workerd tests).
declare module "*?raw" {
  const text: string;
  export default text;
}
