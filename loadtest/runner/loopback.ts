/**
 * Load is only pointed at this machine unless the operator says otherwise:
 * a typo in --base-url must not load-test someone else's server.
 */
import { isIP } from "node:net";

/**
 * @example isLoopbackUrl("http://127.0.0.1:8080") // true
 * @example isLoopbackUrl("https://api.example.com") // false
 */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return false;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host.startsWith("::ffff:127.");
  return false;
}

/** Throws unless `url` is loopback or `allowRemote` is set. */
export function assertLoopback(url: string, allowRemote: boolean): void {
  if (allowRemote || isLoopbackUrl(url)) return;
  throw new Error(`refusing to load-test ${url}: not a loopback address (pass --allow-remote if you mean it)`);
}
