import forge from 'node-forge';
import * as pkijs from 'pkijs';
import { parseCertificate, type Certificate } from './certificate.ts';
import { keyMatchesCertificate } from './private-key.ts';

export type Pkcs12Problem = 'wrong_password' | 'invalid_pkcs12' | 'key_mismatch';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
  constructor(
    readonly problem: Pkcs12Problem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What an identity file holds: the key, its certificate, and the other certificates (the chain). */
export interface Pkcs12Contents {
  /** PKCS#8 DER. */
  privateKey: Buffer;
  certificate: Certificate;
  chain: Certificate[];
}

interface Bags {
  keys: Buffer[];
  certs: Buffer[];
}

/**
 * Reads a PKCS#12 file. PKI.js reads modern files (PBES2/AES, what OpenSSL 3
 * writes by default); it cannot decrypt the legacy 3DES/RC2 bags that
 * `openssl pkcs12 -legacy` and older Windows exports write, so node-forge reads
 * those. node-forge does not parse EC keys, so from either reader we take the
 * PrivateKeyInfo bytes and let node:crypto interpret them.
 */
export async function readPkcs12(file: Uint8Array, password: string): Promise<Pkcs12Contents> {
  let bags: Bags;
  try {
    bags = await readWithPkijs(file, password);
  } catch (modernError) {
    bags = readWithForge(file, password, modernError);
  }
  return pickIdentity(bags);
}

async function readWithPkijs(file: Uint8Array, password: string): Promise<Bags> {
  const secret = new Uint8Array(Buffer.from(password, 'utf8')).buffer;
  const pfx = pkijs.PFX.fromBER(new Uint8Array(file).buffer);
  await pfx.parseInternalValues({ password: secret, checkIntegrity: true });
  const authSafe = pfx.parsedValue?.authenticatedSafe;
  if (!authSafe) throw new Error('PKCS#12 without authenticated safe');
  await authSafe.parseInternalValues({ safeContents: authSafe.safeContents.map(() => ({ password: secret })) });
  const bags: Bags = { keys: [], certs: [] };
  for (const contents of authSafe.parsedValue?.safeContents ?? []) {
    for (const bag of contents.value.safeBags) {
      if (bag.bagValue instanceof pkijs.PKCS8ShroudedKeyBag) {
        await bag.bagValue.parseInternalValues({ password: secret });
        if (!bag.bagValue.parsedValue) throw new Error('undecryptable key bag');
        bags.keys.push(Buffer.from(bag.bagValue.parsedValue.toSchema().toBER(false)));
      } else if (bag.bagValue instanceof pkijs.PrivateKeyInfo) {
        bags.keys.push(Buffer.from(bag.bagValue.toSchema().toBER(false)));
      } else if (bag.bagValue instanceof pkijs.CertBag && bag.bagValue.parsedValue instanceof pkijs.Certificate) {
        bags.certs.push(Buffer.from(bag.bagValue.parsedValue.toSchema().toBER(false)));
      }
    }
  }
  return bags;
}

function readWithForge(file: Uint8Array, password: string, modernError: unknown): Bags {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(file).toString('binary')), false);
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (error) {
    const message = (error as Error).message ?? '';
    if (/MAC could not be verified|Invalid password|wrong password/i.test(message)) {
      throw new Pkcs12Error('wrong_password', 'the PKCS#12 password is wrong (the file integrity check fails)', { cause: error });
    }
    throw new Pkcs12Error('invalid_pkcs12', `not a readable PKCS#12 file: ${message}`, { cause: new AggregateError([modernError, error]) });
  }
  const bags: Bags = { keys: [], certs: [] };
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  for (const bag of keyBags) {
    // An RSA key arrives parsed; any other kind (EC) arrives as its PrivateKeyInfo.
    const info = bag.asn1 ?? (bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key as forge.pki.rsa.PrivateKey)) : undefined);
    if (info) bags.keys.push(Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary'));
  }
  for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []) {
    const asn1 = bag.asn1 ?? (bag.cert ? forge.pki.certificateToAsn1(bag.cert) : undefined);
    if (asn1) bags.certs.push(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
  }
  return bags;
}

function pickIdentity({ keys, certs }: Bags): Pkcs12Contents {
  if (keys.length !== 1) {
    throw new Pkcs12Error('invalid_pkcs12', `the PKCS#12 file holds ${keys.length} private keys; export exactly one identity per file`);
  }
  if (certs.length === 0) throw new Pkcs12Error('invalid_pkcs12', 'the PKCS#12 file holds no certificate');
  const privateKey = keys[0]!;
  const parsed = certs.map((der) => parseCertificate(der));
  const index = parsed.findIndex((cert) => keyMatchesCertificate(privateKey, cert));
  if (index < 0) throw new Pkcs12Error('key_mismatch', 'no certificate in the PKCS#12 file belongs to its private key');
  return { privateKey, certificate: parsed[index]!, chain: parsed.filter((_, i) => i !== index) };
}
