// Verifies Quanban's e-licences exactly as a running server serves them, with someone else's
// implementation of the standards: Digital Bazaar's `vc` library (W3C VC 2.0), its Data Integrity
// proof with the `eddsa-jcs-2022` cryptosuite, and its Bitstring Status List checker. Every
// JSON-LD step runs in safe mode, so a term no context defines fails the check.
//
// Usage: node verify.mjs BASE_URL
// Environment: CITIZEN and CITIZEN_PASSWORD (a demo person with cards in the wallet),
// OFFICER and OFFICER_PASSWORD (a licence officer of JN-SPJ), ENTERPRISE_USER and
// ENTERPRISE_PASSWORD (a person who represents an enterprise, the new licence's holder).
//
// Documents are fetched from BASE_URL only; the W3C contexts come from the packages that ship
// them (never from the network), so the check needs nothing but the server under test.

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialContexts} from '@digitalbazaar/credentials-context';
import securityContext from '@digitalbazaar/security-context';
import {preloadedContexts} from '@fedify/vocab-runtime';
import jsonld from 'jsonld';

const base = process.argv[2];
if(!base) {
  console.error('usage: node verify.mjs BASE_URL');
  process.exit(2);
}
const env = name => {
  const v = process.env[name];
  if(!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
};

// The W3C and security contexts, from the packages (never fetched).
const staticContexts = new Map(Object.entries(preloadedContexts));
for(const [url, ctx] of credentialContexts) {
  staticContexts.set(url, ctx);
}
for(const [url, ctx] of securityContext.contexts) {
  staticContexts.set(url, ctx);
}

const served = [];
async function documentLoader(url) {
  if(staticContexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: staticContexts.get(url)};
  }
  if(!url.startsWith(base + '/')) {
    throw new Error(`refusing to load ${url}: not a W3C context and not from ${base}`);
  }
  const [address, fragment] = url.split('#');
  const response = await fetch(address);
  if(!response.ok) {
    throw new Error(`GET ${address}: ${response.status}`);
  }
  served.push(`${response.headers.get('content-type')} ${address}`);
  const document = await response.json();
  if(fragment === undefined) {
    return {contextUrl: null, documentUrl: url, document};
  }
  // A verification method: the entry of the controller document with this id, as served.
  const method = (document.verificationMethod || []).find(m => m.id === url);
  if(!method) {
    throw new Error(`${address} has no verification method ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document: method};
}

const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});

async function api(path, {token, method = 'GET', body} = {}) {
  const headers = {accept: 'application/json'};
  if(token) {
    headers.authorization = `Bearer ${token}`;
  }
  if(body) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(base + path, {
    method, headers, body: body ? JSON.stringify(body) : undefined
  });
  const text = await response.text();
  if(!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${text}`);
  }
  return JSON.parse(text);
}

async function login(username, password) {
  return (await api('/api/v1/auth/token', {
    method: 'POST', body: {username, password}
  })).token;
}

let failures = 0;
function check(ok, what, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if(!ok) {
    failures++;
    if(detail) {
      console.log(`     ${detail}`);
    }
  }
}

function errorText(result) {
  const errors = [];
  const walk = r => {
    if(!r) {
      return;
    }
    if(r.error) {
      errors.push(r.error.message || String(r.error));
      for(const e of r.error.errors || []) {
        errors.push(e.message || String(e));
      }
    }
    for(const sub of r.results || []) {
      walk(sub);
    }
  };
  walk(result);
  return errors.join('; ');
}

// Verifies one credential (proof and status); returns the status flags by purpose.
async function verify(credential, label) {
  const result = await vc.verifyCredential({
    credential, suite, documentLoader,
    checkStatus: async ({credential}) => ({verified: true, credential})
  });
  check(result.verified, `${label}: proof verifies`, errorText(result));
  // The checker fetches each entry's status list credential, verifies it (proof and issuer) and
  // reads the entry's bit.
  const status = await checkStatus({
    credential, suite, documentLoader,
    verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true
  });
  check(status.verified, `${label}: status lists verify`,
    status.error ? status.error.message :
      (status.results || []).filter(r => !r.verified).map(r => r.error && r.error.message).join('; '));
  const flags = {};
  for(const r of status.results || []) {
    flags[r.credentialStatus.statusPurpose] = r.status;
  }
  return flags;
}

// 1. Every card in the demo citizen's wallet, as the API serves it.
const citizen = await login(env('CITIZEN'), env('CITIZEN_PASSWORD'));
const wallet = await api('/api/v1/wallet', {token: citizen});
check(wallet.length > 0, `the wallet holds ${wallet.length} credentials`);
const issuers = new Set();
for(const card of wallet) {
  const record = await api(`/api/v1/credentials/${encodeURIComponent(card.id)}`, {token: citizen});
  const credential = record.credential;
  issuers.add(credential.issuer.id);
  if(record.status === 'expired') {
    // The demo wallet keeps one expired card: the verifier must refuse it for that reason.
    const result = await vc.verifyCredential({credential, suite, documentLoader});
    check(!result.verified && errorText(result).includes('validUntil'),
      `${record.type} (expired ${credential.validUntil}): refused as expired`, errorText(result));
    continue;
  }
  const flags = await verify(credential, `${record.type} ${record.identifier}`);
  check(flags.revocation === false && flags.suspension === false,
    `${record.type}: neither revoked nor suspended`, JSON.stringify(flags));
}

// 2. Each issuer document in safe mode (undefined terms are errors), framed as a verifier does.
for(const issuer of issuers) {
  const {document} = await documentLoader(issuer);
  try {
    await jsonld.expand(document, {documentLoader, safe: true});
    check(true, `issuer document ${issuer} expands in safe mode`);
  } catch(e) {
    check(false, `issuer document ${issuer} expands in safe mode`, e.message);
  }
}

// 3. A licence issued now, then suspended, reinstated and revoked: the status lists follow.
const officer = await login(env('OFFICER'), env('OFFICER_PASSWORD'));
const representative = await login(env('ENTERPRISE_USER'), env('ENTERPRISE_PASSWORD'));
const enterprise = (await api('/api/v1/me', {token: representative})).enterprises[0].credit_code;
const issued = await api('/api/v1/credentials', {
  token: officer, method: 'POST',
  body: {type: 'food_business_licence', holder_credit_code: enterprise,
    fields: {business_address: '济南市历下区泉城路1号', main_format: '餐饮服务经营者'}}
});
const id = encodeURIComponent(issued.id);
let flags = await verify(issued.credential, 'newly issued licence');
check(flags.revocation === false && flags.suspension === false, 'newly issued: valid', JSON.stringify(flags));
await api(`/api/v1/credentials/${id}/suspend`, {token: officer, method: 'POST', body: {reason: '核查中 / under review'}});
flags = await verify(issued.credential, 'suspended licence');
check(flags.suspension === true && flags.revocation === false, 'suspended: the suspension bit is set', JSON.stringify(flags));
await api(`/api/v1/credentials/${id}/reinstate`, {token: officer, method: 'POST', body: {}});
flags = await verify(issued.credential, 'reinstated licence');
check(flags.suspension === false, 'reinstated: the suspension bit is clear', JSON.stringify(flags));
await api(`/api/v1/credentials/${id}/revoke`, {token: officer, method: 'POST', body: {reason: '吊销 / revoked'}});
flags = await verify(issued.credential, 'revoked licence');
check(flags.revocation === true, 'revoked: the revocation bit is set', JSON.stringify(flags));

// 4. A changed credential must not verify (the verifier really checks).
const forged = structuredClone(issued.credential);
forged.credentialSubject.operator_name = '伪造的名称';
const forgedResult = await vc.verifyCredential({credential: forged, suite, documentLoader});
check(!forgedResult.verified, 'a credential with a changed field does not verify');

// 5. Safe mode is on: the same licence with only the VC 2.0 context (as credentials were served
// before the platform published its context) has undefined terms, which expansion refuses.
const bare = structuredClone(issued.credential);
bare['@context'] = [bare['@context'][0]];
delete bare.proof;
try {
  await jsonld.expand(bare, {documentLoader, safe: true});
  check(false, 'a licence without our context is refused in safe mode');
} catch(e) {
  const why = e.details && e.details.event ? ` (${e.details.event.code}: ${JSON.stringify(e.details.event.details)})` : '';
  check(/safe mode/i.test(e.message), `a licence without our context is refused in safe mode${why}`, e.message);
}

console.log(`\nfetched as served: ${[...new Set(served)].length} documents`);
for(const line of [...new Set(served)].sort()) {
  console.log(`  ${line}`);
}
if(failures) {
  console.log(`\n${failures} check(s) failed`);
  process.exit(1);
}
console.log('\nall credential checks passed');
