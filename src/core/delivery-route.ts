import type { EncryptionPolicy } from './protection.ts';
import type { MessageMode } from './states.ts';

/**
 * How one recipient's copy travels (docs/modes.md, "Route per recipient"):
 * - `smime`: the full message, signed and encrypted to the recipient's certificate;
 * - `signed`: the full message, not encrypted: signed (unless the protection says `sign: false`), readable and archivable by the recipient's systems;
 * - `portal`: a signed notification with a link; the content stays here and is read in the portal.
 */
export const DeliveryRoute = Object.freeze({ smime: 'smime', signed: 'signed', portal: 'portal' } as const);
export type DeliveryRoute = (typeof DeliveryRoute)[keyof typeof DeliveryRoute];

/** A recipient domain's transport policy, as far as routing cares. */
export interface RouteTransportPolicy {
  policy: 'opportunistic' | 'enforced-tls' | 'mutual-tls';
  /** The domain is a business partner whose own systems receive and archive mail. */
  business: boolean;
}

export interface RouteFacts {
  mode: MessageMode;
  /** A valid certificate to encrypt to is known for the recipient (address or domain). */
  recipientCertificate: boolean;
  /** The recipient domain's transport policy; undefined when it has none. */
  transportPolicy?: RouteTransportPolicy | undefined;
  /** The message's `protection.encryption` (src/core/protection.ts); absent: `auto`. */
  encryption?: EncryptionPolicy | undefined;
}

/**
 * The one routing rule. Only `confidential` content ever leaves in full: to a
 * certificate (encrypted), or to a business domain whose transport is enforced
 * (or mutually authenticated) TLS, or in the clear when the sender waived
 * encryption (`encryption: never`). `encryption: required` never takes the
 * unencrypted route. `personal` and `registered` content is only ever shown in
 * the portal, to the addressee, after login (and acceptance): the core refuses
 * to waive encryption for them, and this rule would ignore it anyway.
 */
export function deliveryRoute(facts: RouteFacts): DeliveryRoute {
  if (facts.mode !== 'confidential') return DeliveryRoute.portal;
  if (facts.encryption === 'never') return DeliveryRoute.signed;
  if (facts.recipientCertificate) return DeliveryRoute.smime;
  if (facts.encryption === 'required') return DeliveryRoute.portal;
  const policy = facts.transportPolicy;
  if (policy?.business && (policy.policy === 'enforced-tls' || policy.policy === 'mutual-tls')) return DeliveryRoute.signed;
  return DeliveryRoute.portal;
}
