/**
 * What the browser shows after the redirect. Fixed text only: no parameter of the callback (code,
 * state, error, error_description) is ever echoed, so nothing can be injected or leaked here.
 */
function page(title: string, text: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body><h1>${title}</h1><p>${text}</p></body></html>
`;
}

export const SUCCESS_HTML = page(
  'Authorization received',
  'You can close this window and return to the application.',
);
export const FAILURE_HTML = page(
  'Authorization not completed',
  'Return to the application to see what happened. You can close this window.',
);
