/** Runs `task` with `console.warn` and `console.error` counted instead of printed (the SDKs warn per failed refresh). */
export async function quietly<T>(task: () => Promise<T>): Promise<{ result: T; warnings: number }> {
  const { warn, error } = console;
  let warnings = 0;
  const count = () => {
    warnings++;
  };
  console.warn = count;
  console.error = count;
  try {
    return { result: await task(), warnings };
  } finally {
    console.warn = warn;
    console.error = error;
  }
}
