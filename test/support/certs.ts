import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './proc.js';

export interface SelfSignedCert {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  /** Base64 (standard, not URL) of the certificate's DER, as JWS `x5c` wants it. */
  certDerBase64: string;
}

/**
 * Generates an RSA-2048 key and a self-signed X.509 certificate with the openssl CLI.
 * The certificate also names 127.0.0.1 and localhost, so it can serve loopback TLS too.
 */
export async function makeSelfSignedCert(dir: string, commonName: string, days = 2): Promise<SelfSignedCert> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
    '-keyout', keyPath, '-out', certPath, '-days', String(days),
    '-subj', `/CN=${commonName}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const certPem = await readFile(certPath, 'utf8');
  const keyPem = await readFile(keyPath, 'utf8');
  const certDerBase64 = certPem
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');
  return { certPath, keyPath, certPem, keyPem, certDerBase64 };
}
