// Shared by the Node interop checks: the fixture written by run-aad-interop.sh, a JWT payload
// decoder and a tiny reporter (one line per check; the process exits 1 if any check failed).
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const fixturePath = process.env.EXO_INTEROP_FIXTURE;
if (!fixturePath) {
  console.error("EXO_INTEROP_FIXTURE is not set: run this through tests/interop/run-aad-interop.sh");
  process.exit(2);
}
export const fx = JSON.parse(readFileSync(fixturePath, "utf8"));
fx.cert = readFileSync(fx.certPem, "utf8");
fx.key = readFileSync(fx.keyPem, "utf8");
export const scopes = [`${fx.resource}/.default`];

/** Asserts actual === expected, saying both (and any extra context) when not. */
export function eq(actual, expected, what, context = "") {
  if (actual !== expected) {
    assert.fail(`${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}${context}`);
  }
}

/** The header or payload (part 0 or 1) of a compact JWS, as an object. */
export function jwtPart(jwt, part) {
  assert.equal(typeof jwt, "string", "token is not a string");
  const segments = jwt.split(".");
  assert.equal(segments.length, 3, `token has ${segments.length} segments, not 3`);
  return JSON.parse(Buffer.from(segments[part], "base64url").toString("utf8"));
}

/** The claims every app-only Exchange Online token for the daemon app must carry (reference 3.1/3.3). */
export function assertExoAppToken(accessToken, { appidacr }) {
  const c = jwtPart(accessToken, 1);
  eq(c.aud, fx.resource, "aud");
  eq(c.iss, `https://sts.windows.net/${fx.tenantId}/`, "iss");
  eq(c.tid, fx.tenantId, "tid");
  eq(c.appid, fx.appId, "appid");
  eq(c.ver, "1.0", "ver");
  assert.ok(Array.isArray(c.roles) && c.roles.includes("full_access_as_app"),
    `roles ${JSON.stringify(c.roles)} lacks full_access_as_app`);
  if (appidacr !== undefined) eq(c.appidacr, appidacr, "appidacr");
  const now = Date.now() / 1000;
  assert.ok(c.exp > now + 600, `exp ${c.exp} is not comfortably in the future`);
  return c;
}

/** Awaits a promise that must reject and returns the rejection reason. */
export async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(value).slice(0, 200)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

let failures = 0;
/** Runs one named check and prints "ok   name" or "FAIL name: why". */
export async function check(name, fn) {
  try {
    const note = await fn();
    console.log(`ok   ${name}${note ? ` (${note})` : ""}`);
  } catch (err) {
    failures++;
    const why = err instanceof assert.AssertionError ? err.message : `${err?.name}: ${err?.message}`;
    console.log(`FAIL ${name}: ${why.replace(/\s+/g, " ")}`);
    if (process.env.EXO_INTEROP_VERBOSE) console.error(err);
  }
}

export function finish() {
  process.exitCode = failures ? 1 : 0;
}
