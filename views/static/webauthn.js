// Passkeys and security keys (WebAuthn), as progressive enhancement of the
// forms that carry them:
//
//   <form id="webauthn-login" data-options="URL">     signs in (navigator.credentials.get)
//   <form id="webauthn-register" data-options="URL">  registers (navigator.credentials.create)
//
// (or any form with data-webauthn="get" or data-webauthn="create"). On
// submit the script fetches the options (JSON {publicKey: ...} with
// base64url binary fields), asks the browser for the credential, writes
// it as JSON (binary fields base64url, as go-webauthn parses them) into the
// form's hidden "credential" field and submits the form. Errors show in an
// alert above the form. A browser without WebAuthn does not see the forms.
(() => {
  'use strict'

  const b64urlToBuf = (s) => {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out.buffer
  }

  const bufToB64url = (buf) => {
    const bytes = new Uint8Array(buf)
    let bin = ''
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i])
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }

  const descriptors = (list) => (list || []).map((d) => Object.assign({}, d, { id: b64urlToBuf(d.id) }))

  // creationOptions decodes the options of navigator.credentials.create.
  const creationOptions = (pk) => {
    const o = Object.assign({}, pk, {
      challenge: b64urlToBuf(pk.challenge),
      user: Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) }),
    })
    if (pk.excludeCredentials) o.excludeCredentials = descriptors(pk.excludeCredentials)
    return o
  }

  // requestOptions decodes the options of navigator.credentials.get.
  const requestOptions = (pk) => {
    const o = Object.assign({}, pk, { challenge: b64urlToBuf(pk.challenge) })
    if (pk.allowCredentials) o.allowCredentials = descriptors(pk.allowCredentials)
    return o
  }

  // extensionResults keeps the JSON-safe client extension outputs.
  const extensionResults = (cred) => {
    const out = {}
    const r = cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    if (r.credProps) out.credProps = { rk: !!r.credProps.rk }
    if (r.appid !== undefined) out.appid = !!r.appid
    return out
  }

  // attestationJSON encodes a new credential (RegistrationResponseJSON).
  const attestationJSON = (cred) => {
    const r = cred.response
    const out = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bufToB64url(r.clientDataJSON),
        attestationObject: bufToB64url(r.attestationObject),
      },
      clientExtensionResults: extensionResults(cred),
    }
    if (r.getTransports) out.response.transports = r.getTransports()
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment
    return out
  }

  // assertionJSON encodes an assertion (AuthenticationResponseJSON).
  const assertionJSON = (cred) => {
    const r = cred.response
    const out = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bufToB64url(r.clientDataJSON),
        authenticatorData: bufToB64url(r.authenticatorData),
        signature: bufToB64url(r.signature),
      },
      clientExtensionResults: extensionResults(cred),
    }
    if (r.userHandle && r.userHandle.byteLength > 0) out.response.userHandle = bufToB64url(r.userHandle)
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment
    return out
  }

  const showError = (form, msg) => {
    let p = form.previousElementSibling
    if (!p || !p.classList.contains('webauthn-alert')) {
      p = document.createElement('p')
      p.className = 'alert webauthn-alert'
      p.setAttribute('role', 'alert')
      form.parentNode.insertBefore(p, form)
    }
    p.textContent = msg
  }

  const message = (err) => {
    if (err && err.name === 'NotAllowedError') return 'The request was cancelled or timed out. Try again.'
    if (err && err.name === 'InvalidStateError') return 'This passkey or security key is already registered.'
    if (err && err.userMessage) return err.userMessage
    return 'Your passkey or security key could not be used. Try again.'
  }

  const fetchOptions = async (url) => {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    let body = null
    try {
      body = await res.json()
    } catch (_) {
      body = null
    }
    if (!res.ok || !body || !body.publicKey) {
      const e = new Error('options')
      e.userMessage = (body && body.error_description) || 'This page has expired. Reload it and try again.'
      throw e
    }
    return body
  }

  const enhance = (form, mode) => {
    if (form.dataset.webauthnReady) return
    form.dataset.webauthnReady = '1'
    if (!window.PublicKeyCredential || !navigator.credentials) {
      form.hidden = true
      return
    }
    let busy = false
    form.addEventListener('submit', async (ev) => {
      const field = form.querySelector('input[name="credential"]')
      if (!field || field.value !== '') return // already filled: let it go
      ev.preventDefault()
      if (busy) return
      busy = true
      const buttons = form.querySelectorAll('button')
      buttons.forEach((b) => { b.disabled = true })
      try {
        const opts = await fetchOptions(form.dataset.options)
        let json
        if (mode === 'create') {
          const cred = await navigator.credentials.create({ publicKey: creationOptions(opts.publicKey) })
          json = attestationJSON(cred)
        } else {
          const cred = await navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) })
          json = assertionJSON(cred)
        }
        field.value = JSON.stringify(json)
        form.submit()
      } catch (err) {
        showError(form, message(err))
        buttons.forEach((b) => { b.disabled = false })
      } finally {
        busy = false
      }
    })
  }

  const init = () => {
    document.querySelectorAll('form#webauthn-login, form[data-webauthn="get"]').forEach((f) => enhance(f, 'get'))
    document.querySelectorAll('form#webauthn-register, form[data-webauthn="create"]').forEach((f) => enhance(f, 'create'))
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()

  // A page restored from the back-forward cache must not post the
  // credential of its last ceremony again: each challenge answers once.
  window.addEventListener('pageshow', (ev) => {
    if (!ev.persisted) return
    document.querySelectorAll('form input[name="credential"]').forEach((i) => { i.value = '' })
    document.querySelectorAll('form[data-webauthn-ready] button').forEach((b) => { b.disabled = false })
  })
})()
