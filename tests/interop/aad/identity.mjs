// @azure/identity credentials against mock-aad: ClientSecretCredential (valid, expired, wrong
// secret) and ClientCertificateCredential. identity wraps its own nested msal-node.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ClientSecretCredential, ClientCertificateCredential } from "@azure/identity";
import { fx, scopes, eq, assertExoAppToken, rejection, check, finish } from "./common.mjs";

const identityVersion = JSON.parse(
  readFileSync(new URL("../node_modules/@azure/identity/package.json", import.meta.url), "utf8")).version;

const options = {
  // The authority is https://127.0.0.1:PORT/{tenant} instead of login.microsoftonline.com.
  authorityHost: fx.aad,
  // Makes identity pass knownAuthorities=[authority] to msal, so msal does not ask the hard-coded
  // login.microsoftonline.com instance discovery (offline: CredentialUnavailableError).
  disableInstanceDiscovery: true,
  // A 401 is final; do not let core-rest-pipeline retry anything against the mock.
  retryOptions: { maxRetries: 0 },
};
const scope = scopes[0];

await check("identity: ClientSecretCredential -> EXO app token", async () => {
  const t = await new ClientSecretCredential(fx.tenantId, fx.appId, fx.secret, options).getToken(scope);
  assert.ok(t?.token, "no token");
  assert.ok(t.expiresOnTimestamp > Date.now() + 600_000, `expiresOnTimestamp ${t.expiresOnTimestamp}`);
  assertExoAppToken(t.token, { appidacr: "1" });
  return `@azure/identity ${identityVersion}`;
});

await check("identity: ClientCertificateCredential -> EXO app token", async () => {
  // identity wants one PEM holding the private key and the certificate.
  const credential = new ClientCertificateCredential(fx.tenantId, fx.appId,
    { certificate: `${fx.key}\n${fx.cert}` }, { ...options, sendCertificateChain: true });
  const t = await credential.getToken(scope);
  assertExoAppToken(t.token, { appidacr: "2" });
});

// identity turns msal's ServerError into its own error type; the AADSTS text must survive.
function assertNativeError(err, code) {
  const said = `; identity threw ${err?.name}: ${err?.message}`;
  eq(err?.name, "AuthenticationRequiredError", "error class", said);
  assert.ok(err.message.includes(`AADSTS${code}:`), `message lacks AADSTS${code}:${said}`);
  assert.ok(err.message.includes("invalid_client"), `message lacks invalid_client${said}`);
}

await check("identity: expired secret -> AuthenticationRequiredError AADSTS7000222", async () => {
  const c = new ClientSecretCredential(fx.tenantId, fx.expiredAppId, fx.expiredSecret, options);
  assertNativeError(await rejection(c.getToken(scope)), 7000222);
});

await check("identity: wrong secret -> AuthenticationRequiredError AADSTS7000215", async () => {
  const c = new ClientSecretCredential(fx.tenantId, fx.appId, fx.wrongSecret, options);
  assertNativeError(await rejection(c.getToken(scope)), 7000215);
});

finish();
