/** Whether a request target belongs to the console (/ui) rather than the API. */
export function isConsolePath(url: string): boolean {
  return url === '/ui' || url.startsWith('/ui/') || url.startsWith('/ui?')
}
