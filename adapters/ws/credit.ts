import type { RequestId } from '../protocol.ts';

/**
 * A connection's outstanding credit (RSocket's REQUEST_N): cumulative, one item each, with what each `more`
 * granted kept oldest first, so every item can name the request it answers (`item.re`).
 */
export class Credit {
  private left = 0;
  private grants: { id: RequestId; left: number }[] = [];

  /** Items the client may still be sent. */
  get outstanding(): number {
    return this.left;
  }

  /** The oldest `more` that still has credit. */
  get oldest(): RequestId | undefined {
    return this.grants[0]?.id;
  }

  grant(id: RequestId, n: number): void {
    this.left += n;
    this.grants.push({ id, left: n });
  }

  /** Takes one item's credit; returns the request it answers. Only while `outstanding` > 0. */
  spend(): RequestId {
    const grant = this.grants[0];
    this.left--;
    if (--grant.left === 0) this.grants.shift();
    return grant.id;
  }

  /** Drops it all (a failed fetch: the client asks again rather than the server looping). */
  drop(): void {
    this.left = 0;
    this.grants = [];
  }
}
