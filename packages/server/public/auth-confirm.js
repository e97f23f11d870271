// The page of the links in Plinth's mails. The token and the collection come in the
// fragment, which the browser never sends to a server, and go to the API as JSON.
const titles = {
  'confirm-verification': 'Verify your email address',
  'confirm-password-reset': 'Reset your password',
  'confirm-email-change': 'Confirm your new email address',
}
const done = {
  'confirm-verification': 'Your email address is verified. You can close this page.',
  'confirm-password-reset': 'Your password is changed. Sign in with the new one.',
  'confirm-email-change': 'Your email address is changed. Sign in with the new one.',
}

function show(text, kind) {
  const message = document.getElementById('message')
  message.textContent = text
  message.className = `message ${kind}`
  message.hidden = false
}

function start() {
  const action = location.pathname.split('/').pop()
  const form = document.getElementById(action)
  if (!form || !titles[action]) return show('This page does not know the action in its address.', 'error')
  document.title = titles[action]
  document.getElementById('title').textContent = titles[action]
  const params = new URLSearchParams(location.hash.slice(1))
  const token = params.get('token') || ''
  const collection = params.get('collection') || ''
  // Kept in memory only: the address bar, history and bookmarks lose the token at once.
  history.replaceState(null, '', location.pathname)
  if (!token || !collection) return show('Open this page with the link from your mail.', 'error')
  form.hidden = false
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body = { token, ...Object.fromEntries(new FormData(form)) }
    const button = form.querySelector('button')
    button.disabled = true
    try {
      const response = await fetch(`/api/collections/${encodeURIComponent(collection)}/${action}`, {
        method: 'POST',
        // The confirm actions need no session; a cookie-mode session would only ask for a CSRF header.
        credentials: 'omit',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (response.ok) {
        form.hidden = true
        return show(done[action], 'ok')
      }
      const answer = await response.json().catch(() => ({}))
      const fields = answer.errors
        ? Object.entries(answer.errors)
            .map(([name, error]) => `${name}: ${error.message}`)
            .join('; ')
        : ''
      show(`${answer.detail || 'That did not work.'}${fields ? ` ${fields}` : ''}`, 'error')
    } catch {
      show('The server could not be reached; try again.', 'error')
    } finally {
      button.disabled = false
    }
  })
}

start()
