/**
 * Run-time API-key revocation. With `redis.url` the gateway plugs in the
 * shared list (`src/state` `Revocations`: every replica refuses a revoked key
 * within `redis.refreshMs`); without it, {@link LocalRevocations} keeps the
 * list in this process (lost on restart: remove the key from the config too).
 */

/** What auth and the admin routes need of a revocation list (keys named by key id, never by secret). */
export interface KeyRevocations {
  /** Synchronous: checked on every request. */
  isRevoked(keyId: string): boolean;
  /** Revokes on every replica the list reaches; rejects when it could apply it here only. */
  revoke(keyId: string): Promise<void>;
  /** Lifts a revocation; rejects when the shared list could not be changed. */
  restore(keyId: string): Promise<void>;
}

/**
 * @example
 * ```ts
 * const revocations = new LocalRevocations();
 * await revocations.revoke("3f1a9c0b7d2e");
 * revocations.isRevoked("3f1a9c0b7d2e"); // true
 * ```
 */
export class LocalRevocations implements KeyRevocations {
  private readonly revoked = new Set<string>();

  isRevoked(keyId: string): boolean {
    return this.revoked.has(keyId);
  }

  async revoke(keyId: string): Promise<void> {
    this.revoked.add(keyId);
  }

  async restore(keyId: string): Promise<void> {
    this.revoked.delete(keyId);
  }
}
