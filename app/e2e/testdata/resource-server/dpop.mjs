// A public client with DPoP (RFC 9449) through oauth4webapi: it redeems an
// authorization code with a DPoP proof of its own ES256 key (retrying once
// on use_dpop_nonce, as RFC 9449 §8 says), calls userinfo with the DPoP
// scheme, refreshes with a proof of the same key, and tries the access
// token as Bearer (used by app/e2e).
//
//   node dpop.mjs ISSUER CLIENT_ID CALLBACK_URL STATE CODE_VERIFIER
//       prints {tokenType, accessToken, refreshedTokenType,
//       refreshedAccessToken, jkt, userinfo, bearerStatus} as JSON
//
// Node does not resolve *.localhost: every request goes to 127.0.0.1 on the
// issuer's port, with the issuer's host in the Host header.
import * as oauth from 'oauth4webapi'
import http from 'node:http'

const [issuer, clientId, callbackURL, state, verifier] = process.argv.slice(2)

function loopbackFetch(url, options = {}) {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(new Headers(options.headers))
    headers.host = u.host
    const req = http.request({ host: '127.0.0.1', port: u.port, path: u.pathname + u.search, method: options.method || 'GET', headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const h = new Headers()
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v)
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: h }))
      })
    })
    req.on('error', reject)
    if (options.body) req.write(typeof options.body === 'string' ? options.body : options.body.toString())
    req.end()
  })
}

// onceMoreOnNonce runs fn again when the server asked for its nonce.
async function onceMoreOnNonce(fn) {
  try {
    return await fn()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return await fn()
    throw err
  }
}

const base = { [oauth.customFetch]: loopbackFetch, [oauth.allowInsecureRequests]: true }
try {
  const issuerURL = new URL(issuer)
  const as = await oauth.processDiscoveryResponse(issuerURL, await oauth.discoveryRequest(issuerURL, base))
  const client = { client_id: clientId }
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const opts = { ...base, DPoP }
  const params = oauth.validateAuthResponse(as, client, new URL(callbackURL), state)
  const redirectURI = new URL(callbackURL).origin + new URL(callbackURL).pathname
  const tokens = await onceMoreOnNonce(async () => {
    const r = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectURI, verifier, opts)
    return oauth.processAuthorizationCodeResponse(as, client, r)
  })
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  const ui = await oauth.userInfoRequest(as, client, tokens.access_token, opts)
  const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub, ui)
  const refreshed = await onceMoreOnNonce(async () => {
    const r = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, opts)
    return oauth.processRefreshTokenResponse(as, client, r)
  })
  const bearer = await loopbackFetch(as.userinfo_endpoint, { headers: { authorization: `Bearer ${refreshed.access_token}` } })
  const jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey)
  const thumb = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))))
  console.log(JSON.stringify({
    tokenType: tokens.token_type, accessToken: tokens.access_token,
    refreshedTokenType: refreshed.token_type, refreshedAccessToken: refreshed.access_token,
    jkt: Buffer.from(thumb).toString('base64url'), userinfo, bearerStatus: bearer.status,
  }))
} catch (err) {
  console.error(`${err.name}: ${err.message}${err.code ? ' (' + err.code + ')' : ''}${err.error ? ' ' + err.error : ''}`)
  process.exit(1)
}
