/** Hides the user-info part of URLs (`rest:https://user:secret@host/`) before text is shown or logged. */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/)[^/@\s]+@/g, '$1***@');
}
