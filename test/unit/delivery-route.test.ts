import { describe, expect, it } from 'vitest';
import { deliveryRoute, type RouteFacts } from '../../src/core/delivery-route.ts';

const business = (policy: 'opportunistic' | 'enforced-tls' | 'mutual-tls', isBusiness = true) => ({ policy, business: isBusiness });

/** The table of docs/modes.md, row by row. */
const table: Array<[RouteFacts, ReturnType<typeof deliveryRoute>]> = [
  [{ mode: 'confidential', recipientCertificate: true }, 'smime'],
  [{ mode: 'confidential', recipientCertificate: true, transportPolicy: business('mutual-tls') }, 'smime'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('mutual-tls') }, 'signed'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('enforced-tls') }, 'signed'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('opportunistic') }, 'portal'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('mutual-tls', false) }, 'portal'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('enforced-tls', false) }, 'portal'],
  [{ mode: 'confidential', recipientCertificate: false }, 'portal'],
  [{ mode: 'personal', recipientCertificate: true, transportPolicy: business('mutual-tls') }, 'portal'],
  [{ mode: 'personal', recipientCertificate: false }, 'portal'],
  [{ mode: 'registered', recipientCertificate: true, transportPolicy: business('mutual-tls') }, 'portal'],
  [{ mode: 'registered', recipientCertificate: false }, 'portal'],
  // protection.encryption (src/core/protection.ts): never -> the full copy, not encrypted; required -> never the unencrypted route.
  [{ mode: 'confidential', recipientCertificate: true, encryption: 'never' }, 'signed'],
  [{ mode: 'confidential', recipientCertificate: false, encryption: 'never' }, 'signed'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('opportunistic'), encryption: 'never' }, 'signed'],
  [{ mode: 'confidential', recipientCertificate: true, encryption: 'required' }, 'smime'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('mutual-tls'), encryption: 'required' }, 'portal'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('enforced-tls'), encryption: 'required' }, 'portal'],
  [{ mode: 'confidential', recipientCertificate: false, encryption: 'required' }, 'portal'],
  [{ mode: 'confidential', recipientCertificate: false, transportPolicy: business('mutual-tls'), encryption: 'auto' }, 'signed'],
  [{ mode: 'personal', recipientCertificate: true, encryption: 'never' }, 'portal'],
  [{ mode: 'registered', recipientCertificate: false, transportPolicy: business('mutual-tls'), encryption: 'never' }, 'portal'],
];

describe('deliveryRoute', () => {
  it.each(table)('%j -> %s', (facts, route) => {
    expect(deliveryRoute(facts)).toBe(route);
  });

  it('never sends personal or registered content out of the portal, whatever the facts', () => {
    for (const mode of ['personal', 'registered'] as const) {
      for (const recipientCertificate of [true, false]) {
        for (const policy of ['opportunistic', 'enforced-tls', 'mutual-tls'] as const) {
          for (const isBusiness of [true, false]) {
            for (const encryption of ['auto', 'never', 'required'] as const) {
              expect(deliveryRoute({ mode, recipientCertificate, transportPolicy: business(policy, isBusiness), encryption })).toBe('portal');
            }
          }
        }
      }
    }
  });
});
