// DEVELOPMENT ONLY. Generates the dev signing keys committed next to this script.
// Usage (from the repository root):  node dev/keys/generate.mjs
// Writes dev-es256.private.jwk.json, dev-rs256.private.jwk.json and dev-jwks.json.
// The worker trusts these public keys only while ALTINN_JWKS / PLATFORM_ACCESS_JWKS are unset.
import { webcrypto as crypto } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = dirname(fileURLToPath(import.meta.url));

async function makeKey(kid, alg, params) {
  const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
  const priv = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
  // Fixed member order: identification first, then key material.
  const meta = { kid, alg, use: "sig" };
  const strip = ({ key_ops, ext, alg: _a, ...rest }) => rest;
  return { priv: { ...meta, ...strip(priv) }, pub: { ...meta, ...strip(pub) } };
}

const es = await makeKey("dev-es256", "ES256", { name: "ECDSA", namedCurve: "P-256" });
const rs = await makeKey("dev-rs256", "RS256", {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
});

const write = (name, value) => writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + "\n");
write("dev-es256.private.jwk.json", es.priv);
write("dev-rs256.private.jwk.json", rs.priv);
write("dev-jwks.json", { keys: [es.pub, rs.pub] });
console.log("wrote dev keys to", dir);
