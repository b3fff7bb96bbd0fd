#!/usr/bin/env node
// An independent OpenID4VC wallet engine (Credo 0.6, unmodified) driven from the command line, so a
// test can scan credgate's QR codes as a phone would. One folder is one wallet. Every command prints
// one JSON object on stdout; a failure prints {"error": ...} and exits 1.
//
//   node wallet.mjs init    <folder>                        -> {did, kid}
//   node wallet.mjs receive <folder> <offer-uri> [tx_code] [--formats dc+sd-jwt,jwt_vc_json]
//   node wallet.mjs present <folder> <openid4vp-uri>
//   node wallet.mjs list    <folder>
//
// Only loopback is reachable: the fetch Credo is given refuses any other host, so nothing is
// resolved remotely (did:key and did:jwk resolve locally; no JSON-LD context is fetched).
import 'reflect-metadata'
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import {
  Agent,
  ClaimFormat,
  ConsoleLogger,
  DidsModule,
  InjectionSymbols,
  JwkDidRegistrar,
  JwkDidResolver,
  KeyDidRegistrar,
  KeyDidResolver,
  Kms,
  LogLevel,
  DependencyManager,
} from '@credo-ts/core'
import { OpenId4VcModule } from '@credo-ts/openid4vc'
import { NodeFileSystem } from './vendor/credo-node/NodeFileSystem.mjs'
import { NodeKeyManagementService } from './vendor/credo-node/kms/NodeKeyManagementService.mjs'
import { JsonFileKeyStorage, JsonFileStorageService } from './storage.mjs'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

async function loopbackFetch(input, init) {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
  if (!LOOPBACK.has(url.hostname)) throw new Error(`refused: ${url.origin} is not loopback`)
  return fetch(input, init)
}

class Refused {
  // Credo needs a WebSocket class for DIDComm only; nothing here opens one.
  constructor() {
    throw new Error('no WebSockets in this wallet')
  }
}

async function openAgent(folder) {
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 })
  const dependencyManager = new DependencyManager()
  dependencyManager.registerInstance(InjectionSymbols.StorageService, new JsonFileStorageService(folder))
  const agent = new Agent(
    {
      config: {
        logger: new ConsoleLogger(process.env.CREDO_LOG === 'debug' ? LogLevel.debug : LogLevel.off),
        allowInsecureHttpUrls: true, // the suite runs on http://127.0.0.1
        autoUpdateStorageOnStartup: true, // a new folder starts at the current storage version
      },
      dependencies: {
        FileSystem: class extends NodeFileSystem {
          constructor() {
            super({ baseDataPath: path.join(folder, 'data'), baseCachePath: path.join(folder, 'cache'),
              baseTempPath: path.join(folder, 'tmp') })
          }
        },
        fetch: loopbackFetch,
        EventEmitterClass: EventEmitter,
        WebSocketClass: Refused,
      },
      modules: {
        kms: new Kms.KeyManagementModule({
          backends: [new NodeKeyManagementService(new JsonFileKeyStorage(folder))],
        }),
        dids: new DidsModule({
          resolvers: [new KeyDidResolver(), new JwkDidResolver()],
          registrars: [new KeyDidRegistrar(), new JwkDidRegistrar()],
        }),
        openid4vc: new OpenId4VcModule(),
      },
    },
    dependencyManager,
  )
  await agent.initialize()
  return agent
}

async function holderDid(agent) {
  const [record] = await agent.dids.getCreatedDids({ method: 'key' })
  if (record) return record.did
  const created = await agent.dids.create({
    method: 'key',
    options: { createKey: { type: { kty: 'OKP', crv: 'Ed25519' } } },
  })
  if (created.didState.state !== 'finished') throw new Error(JSON.stringify(created.didState))
  return created.didState.did
}

function kidOf(did) {
  return `${did}#${did.slice('did:key:'.length)}`
}

function summary(record) {
  if (record.type === 'SdJwtVcRecord') {
    const claims = record.firstCredential.prettyClaims
    return { id: record.id, format: 'dc+sd-jwt', vct: claims.vct, jti: claims.jti, cnf: claims.cnf }
  }
  const credential = record.firstCredential
  return {
    id: record.id,
    format: credential.claimFormat,
    types: credential.type,
    credential_id: credential.id,
    subject: credential.credentialSubjectIds,
  }
}

async function init(agent) {
  const did = await holderDid(agent)
  return { did, kid: kidOf(did) }
}

async function receive(agent, offer, txCode, formats) {
  const began = performance.now()
  const did = await holderDid(agent)
  const resolved = await agent.openid4vc.holder.resolveCredentialOffer(offer)
  const offered = Object.entries(resolved.offeredCredentialConfigurations)
  const wanted = offered.filter(([, configuration]) => !formats || formats.includes(configuration.format))
  if (!wanted.length) throw new Error(`none of the offered formats is ${formats}`)
  const token = await agent.openid4vc.holder.requestToken({ resolvedCredentialOffer: resolved, txCode })
  // One credential request per configuration: Credo 0.6.3 carries c_nonce from one credential
  // response into the next proof, but OpenID4VCI 1.0 credential responses carry none (a fresh one
  // comes from the nonce endpoint), so a second request in one call would go without a nonce.
  const received = []
  let deferred = 0
  for (const [configurationId] of wanted) {
    const response = await agent.openid4vc.holder.requestCredentials({
      resolvedCredentialOffer: resolved,
      accessToken: token.accessToken,
      dpop: token.dpop,
      credentialConfigurationIds: [configurationId],
      allowedProofOfPossessionSignatureAlgorithms: ['EdDSA'],
      // The wallet's one key, by did:key for W3C formats (the subject the issuer knows) and by jwk
      // for SD-JWT VC (the issuer puts it in cnf.jwk, and Credo stores an SD-JWT only for a key it
      // sent as a jwk); the issuer derives the same did:key from either.
      credentialBindingResolver: async ({ credentialFormat }) => {
        if (!credentialFormat.includes('sd-jwt')) return { method: 'did', didUrls: [kidOf(did)] }
        const { publicJwk } = await agent.dids.resolveVerificationMethodFromCreatedDidRecord(kidOf(did))
        return { method: 'jwk', keys: [publicJwk] }
      },
    })
    deferred += response.deferredCredentials.length
    for (const credential of response.credentials) {
      const record = credential.record
      if (record.type === 'SdJwtVcRecord') await agent.sdJwtVc.store({ record })
      else await agent.w3cCredentials.store({ record })
      received.push({ configuration: credential.credentialConfigurationId, ...summary(record) })
    }
  }
  return {
    holder: did,
    issuer: resolved.metadata.credentialIssuer.credential_issuer,
    received,
    deferred,
    seconds: (performance.now() - began) / 1000,
  }
}

async function present(agent, uri) {
  const began = performance.now()
  const resolved = await agent.openid4vc.holder.resolveOpenId4VpAuthorizationRequest(uri)
  const accept = { authorizationRequestPayload: resolved.authorizationRequestPayload }
  let query
  if (resolved.dcql) {
    query = 'dcql'
    if (!resolved.dcql.queryResult.can_be_satisfied) {
      throw new Error(`no credential satisfies the DCQL query: ${JSON.stringify(resolved.dcql.queryResult)}`)
    }
    accept.dcql = { credentials: agent.openid4vc.holder.selectCredentialsForDcqlRequest(resolved.dcql.queryResult) }
  } else if (resolved.presentationExchange) {
    query = 'presentation_definition'
    const forRequest = resolved.presentationExchange.credentialsForRequest
    if (!forRequest.areRequirementsSatisfied) throw new Error('no credential satisfies the presentation definition')
    accept.presentationExchange = {
      credentials: agent.openid4vc.holder.selectCredentialsForPresentationExchangeRequest(forRequest),
    }
  } else {
    throw new Error('the request asks for neither a DCQL query nor a presentation definition')
  }
  const result = await agent.openid4vc.holder.acceptOpenId4VpAuthorizationRequest(accept)
  const payload = result.authorizationResponsePayload ?? {}
  return {
    // What went to the verifier: the PE submission's formats, or the DCQL credential query ids.
    submitted: payload.presentation_submission
      ? payload.presentation_submission.descriptor_map.map((d) => d.format)
      : Object.keys(typeof payload.vp_token === 'object' ? payload.vp_token : {}),
    ok: result.ok,
    query,
    client_id: resolved.authorizationRequestPayload.client_id,
    client_id_prefix: resolved.verifier.clientIdPrefix,
    signed: Boolean(resolved.signedAuthorizationRequest),
    status: result.serverResponse?.status ?? null,
    body: result.serverResponse?.body ?? null,
    seconds: (performance.now() - began) / 1000,
  }
}

async function list(agent) {
  const sdJwt = await agent.sdJwtVc.getAll()
  const w3c = await agent.w3cCredentials.getAll()
  return { credentials: [...sdJwt, ...w3c].map(summary) }
}

async function main(argv) {
  const [command, folder, ...rest] = argv
  if (!command || !folder) throw new Error('usage: wallet.mjs init|receive|present|list <folder> ...')
  const formatsAt = rest.indexOf('--formats')
  const formats = formatsAt >= 0 ? rest.splice(formatsAt, 2)[1].split(',') : undefined
  const agent = await openAgent(folder)
  try {
    if (command === 'init') return await init(agent)
    if (command === 'receive') return await receive(agent, rest[0], rest[1], formats)
    if (command === 'present') return await present(agent, rest[0])
    if (command === 'list') return await list(agent)
    throw new Error(`unknown command ${command}`)
  } finally {
    await agent.shutdown()
  }
}

main(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (error) => {
    const detail = { error: String(error?.message ?? error), name: error?.name }
    if (error?.cause) detail.cause = String(error.cause?.message ?? error.cause)
    if (error?.errorResponse) detail.errorResponse = error.errorResponse
    process.stdout.write(`${JSON.stringify(detail)}\n`)
    process.exit(1)
  },
)
