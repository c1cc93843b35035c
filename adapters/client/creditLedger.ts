import type { Limits, RequestId } from '../protocol.ts';

/**
 * The credit bookkeeping of one session: how many items the application still wants, and what this
 * connection has granted the server for them (by `more` id, oldest first, as the server spends it).
 */
export class CreditLedger {
  /** Items the application asked for and has not received. */
  wanted = 0;
  private grants: { id: RequestId; left: number }[] = [];

  /** Credit granted on this connection and not used yet. */
  granted(): number {
    return this.grants.reduce((sum, g) => sum + g.left, 0);
  }

  /** True when `id` is a `more` this connection sent that still has credit. */
  owns(id: RequestId): boolean {
    return this.grants.some((g) => g.id === id);
  }

  /** A new connection: credit belongs to the connection, so it starts at 0. */
  reconnected(): void {
    this.grants = [];
  }

  /** The session delivered `count` items the old connection's credit paid for (they are resent, or too old). */
  deliveredWhileAway(count: number): void {
    this.wanted = Math.max(0, this.wanted - Math.max(0, count));
  }

  /** An item used the credit of `re`; true when more credit should be granted now (what was above maxCredit). */
  used(re: RequestId): boolean {
    this.wanted = Math.max(0, this.wanted - 1);
    const grant = this.grants.find((g) => g.id === re);
    if (grant && --grant.left === 0) this.grants.splice(this.grants.indexOf(grant), 1);
    return this.wanted > this.granted();
  }

  /** The server dropped this connection's credit (a failed fetch); `keepWanted` when asking again may work. */
  dropped(keepWanted: boolean): void {
    this.grants = [];
    if (!keepWanted) this.wanted = 0;
  }

  /** The `more` requests that grant what is wanted: steps of at most `maxMore`, never above `maxCredit`. */
  plan(
    limits: Pick<Limits, 'maxMore' | 'maxCredit'>,
    newId: () => RequestId,
  ): { id: RequestId; n: number }[] {
    const out: { id: RequestId; n: number }[] = [];
    let ask = Math.min(this.wanted, limits.maxCredit) - this.granted();
    while (ask > 0) {
      const n = Math.min(ask, limits.maxMore);
      const id = newId();
      this.grants.push({ id, left: n });
      out.push({ id, n });
      ask -= n;
    }
    return out;
  }
}
