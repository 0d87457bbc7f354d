import { AppError } from './errors.ts';
import type { Role } from './states.ts';

/** Who is calling, as established by a front door's authentication. */
export interface Principal {
  tenantId: string;
  keyId: string;
  role: Role;
  senderDomains: readonly string[];
}

export type Action = 'message:submit' | 'message:read' | 'message:cancel' | 'logbook:read' | 'tenant:admin';

const permissions: Readonly<Record<Action, readonly Role[]>> = {
  'message:submit': ['submitter'],
  'message:read': ['submitter', 'auditor'],
  'message:cancel': ['submitter'],
  'logbook:read': ['submitter', 'auditor'],
  'tenant:admin': ['admin'],
};

export function authorize(principal: Principal, action: Action): void {
  if (!permissions[action].includes(principal.role)) {
    throw new AppError('forbidden', `the ${principal.role} role may not ${action.replace(':', ' ')}`, {
      role: principal.role,
      action,
    });
  }
}

/** The actor recorded in the logbook for what a principal did. */
export const actorOf = (p: Principal) => `key:${p.keyId}`;
