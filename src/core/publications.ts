import { DomainError, type FkError } from './errors';

/** What happened to a record a client published. */
export type Outcome = { readonly accepted: true } | { readonly accepted: false; readonly error: FkError };

/**
 * @internal
 * The actions a client has in flight and how each one ends (read-your-writes): accepted when
 * its own record comes back applied; lost as soon as another record is accepted at the seq it
 * proposed (the winner learns of its win at that very entry, so the loser should not learn later).
 */
export interface Publications {
  /** Registers an action published as `plain` with `id` at `seq`; resolves once its fate is known. */
  expect(id: string, plain: string, seq: number): Promise<Outcome>;
  /** An entry came back: settles the action it is (by id, else by its plain line). */
  settle(entryId: string | undefined, plain: string | null, outcome: Outcome): void;
  /** A record `plain` was accepted at `seq`: an action of ours proposed there with another line lost. */
  taken(seq: number, plain: string): void;
  /** Forgets the action (its publish failed, or it ended). */
  forget(id: string, plain: string, seq: number): void;
}

export function createPublications(): Publications {
  const byKey = new Map<string, (o: Outcome) => void>();
  const bySeq = new Map<number, { readonly plain: string; readonly settle: (o: Outcome) => void }>();
  return {
    expect(id, plain, seq) {
      return new Promise<Outcome>((resolve) => {
        byKey.set(id, resolve);
        byKey.set(plain, resolve);
        bySeq.set(seq, { plain, settle: resolve });
      });
    },
    settle(entryId, plain, outcome) {
      if (byKey.size === 0) return; // nothing in flight: a replay settles nothing (and hashes no id)
      const key = entryId ?? plain;
      const settle = key === null ? undefined : byKey.get(key);
      if (settle) {
        byKey.delete(key as string);
        settle(outcome);
      }
    },
    taken(seq, plain) {
      const mine = bySeq.get(seq);
      if (mine && mine.plain !== plain) mine.settle({ accepted: false, error: lostRace(seq) });
    },
    forget(id, plain, seq) {
      byKey.delete(id);
      byKey.delete(plain);
      bySeq.delete(seq);
    },
  };
}

/** `FK_SEQUENCE_CONFLICT`: another record took the number. */
export function lostRace(seq: number): DomainError {
  return new DomainError('FK_SEQUENCE_CONFLICT', `sequence ${seq} was taken by another client`, { seq });
}
