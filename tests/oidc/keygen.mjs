// Prints a fresh key pair for a relying party's private_key_jwt client authentication:
// {"pem": PKCS#8 PEM private key, "jwk": public JWK with kid}. Usage: node keygen.mjs rsa|ec
import { generateKeyPairSync, randomUUID } from 'node:crypto';

const kind = process.argv[2];
const { privateKey, publicKey } = kind === 'rsa'
  ? generateKeyPairSync('rsa', { modulusLength: 2048 })
  : generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: kind === 'rsa' ? 'RS256' : 'ES256' };
process.stdout.write(JSON.stringify({ pem: privateKey.export({ format: 'pem', type: 'pkcs8' }), jwk }));
