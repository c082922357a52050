/**
 * Attribution of administrative writes. DynamoDB stream records do not say who made a change, so every
 * mutating write to a configuration table carries `lastChange`: the actor (an IAM principal ARN, or
 * `local:<os user>` locally), a change id, the time and the action. Stores refuse writes without an
 * actor. A delete first stamps the item with its `*.delete` change, so the stream's REMOVE record still
 * names who deleted it.
 */
import { randomUUID } from 'node:crypto';

/** Every administrative action the audit log knows. */
export const AUDIT_ACTIONS = [
  'key.create',
  'key.import',
  'key.disable',
  'key.enable',
  'key.rotate',
  'key.update',
  'key.delete',
  'team.create',
  'team.update',
  'team.disable',
  'team.enable',
  'team.delete',
  'provider.create',
  'provider.update',
  'provider.delete',
  'credential.create',
  'credential.update',
  'credential.delete',
  'price.set',
  'alias.set',
  'alias.delete',
  'settings.set',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who is making changes. */
export interface Actor {
  /** `arn:aws:iam::…` or `local:<user>`. */
  id: string;
}

/** The attribution stamped on an item by one write. */
export interface Change {
  actor: string;
  changeId: string;
  at: string;
  action: AuditAction;
  /** Part of another change (a provider's first credential, an index entry): audited with that change. */
  cascade?: boolean;
}

/** A store was asked to change something without knowing who asks. */
export class UnattributedWriteError extends Error {
  constructor() {
    super('refusing an administrative write without an actor');
    this.name = 'UnattributedWriteError';
  }
}

/** A new change by `actor`; throws when there is no actor. */
export function newChange(
  actor: Actor | undefined,
  action: AuditAction,
  options: { changeId?: string; cascade?: boolean; at?: Date } = {},
): Change {
  if (actor === undefined || actor.id.trim() === '') throw new UnattributedWriteError();
  return {
    actor: actor.id,
    changeId: options.changeId ?? randomUUID(),
    at: (options.at ?? new Date()).toISOString(),
    action,
    ...(options.cascade === true ? { cascade: true } : {}),
  };
}
