// @azure/msal-node ConfidentialClientApplication against mock-aad: client credentials with a
// secret, with a certificate (SHA-1 and SHA-256 thumbprints), and the two secret failures.
import { X509Certificate } from "node:crypto";
import assert from "node:assert/strict";
import { ConfidentialClientApplication, ServerError, version } from "@azure/msal-node";
import { fx, scopes, eq, jwtPart, assertExoAppToken, rejection, check, finish } from "./common.mjs";

// Observation only: msal-node 7 sends its requests with Node's global fetch, so recording the
// token requests here lets the certificate checks see which assertion header was really sent.
const sentAssertions = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init) => {
  const body = typeof init?.body === "string" ? new URLSearchParams(init.body) : null;
  if (body?.has("client_assertion")) sentAssertions.push(body.get("client_assertion"));
  return realFetch(url, init);
};

function app(credential, clientId = fx.appId) {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      authority: `${fx.aad}/${fx.tenantId}`,
      // 127.0.0.1:PORT is no Microsoft cloud: without this msal-node asks the hard-coded
      // login.microsoftonline.com instance discovery and fails with endpoints_resolution_error.
      knownAuthorities: [new URL(fx.aad).host],
      ...credential,
    },
  });
}

/** The header of the last client assertion msal-node sent. */
function lastAssertionHeader() {
  assert.ok(sentAssertions.length > 0, "no client_assertion was sent");
  return jwtPart(sentAssertions.at(-1), 0);
}

const cert = new X509Certificate(fx.cert);
const hex = (fingerprint) => fingerprint.replaceAll(":", "");

await check("msal-node: client secret -> EXO app token", async () => {
  const r = await app({ clientSecret: fx.secret }).acquireTokenByClientCredential({ scopes });
  assert.ok(r?.accessToken, "no accessToken");
  assertExoAppToken(r.accessToken, { appidacr: "1" });
  return `msal-node ${version}`;
});

await check("msal-node: certificate, SHA-1 thumbprint (RS256, x5t)", async () => {
  const r = await app({
    clientCertificate: { thumbprint: hex(cert.fingerprint), privateKey: fx.key, x5c: fx.cert },
  }).acquireTokenByClientCredential({ scopes });
  assertExoAppToken(r.accessToken, { appidacr: "2" });
  const h = lastAssertionHeader();
  eq(h.alg, "RS256", "assertion alg");
  assert.ok(h.x5t && !h["x5t#S256"], `assertion header ${JSON.stringify(Object.keys(h))}`);
});

await check("msal-node: certificate, SHA-256 thumbprint (PS256, x5t#S256)", async () => {
  const r = await app({
    clientCertificate: { thumbprintSha256: hex(cert.fingerprint256), privateKey: fx.key, x5c: fx.cert },
  }).acquireTokenByClientCredential({ scopes });
  assertExoAppToken(r.accessToken, { appidacr: "2" });
  const h = lastAssertionHeader();
  eq(h.alg, "PS256", "assertion alg");
  assert.ok(h["x5t#S256"] && !h.x5t, `assertion header ${JSON.stringify(Object.keys(h))}`);
});

/** A rejected client-credential request must be msal's ServerError for invalid_client / code. */
function assertInvalidClient(err, code) {
  const said = `; msal-node threw ${err?.name} (status ${err?.status}): ${err?.message}`;
  assert.ok(err instanceof ServerError, `not a ServerError${said}`);
  eq(err.errorCode, "invalid_client", "errorCode", said);
  eq(String(err.errorNo), String(code), "errorNo", said);
  assert.ok(err.errorMessage?.includes(`AADSTS${code}:`), `errorMessage lacks AADSTS${code}:${said}`);
  eq(err.status, 401, "HTTP status", said);
}

await check("msal-node: expired secret -> invalid_client AADSTS7000222", async () => {
  const err = await rejection(
    app({ clientSecret: fx.expiredSecret }, fx.expiredAppId).acquireTokenByClientCredential({ scopes }));
  assertInvalidClient(err, 7000222);
});

await check("msal-node: wrong secret -> invalid_client AADSTS7000215", async () => {
  const err = await rejection(app({ clientSecret: fx.wrongSecret }).acquireTokenByClientCredential({ scopes }));
  assertInvalidClient(err, 7000215);
});

finish();
