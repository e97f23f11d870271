const token = new URLSearchParams(location.hash.slice(1)).get('token') || ''
const form = document.getElementById('setup')
const message = document.getElementById('message')
function show(text, kind) {
  message.textContent = text
  message.className = 'message ' + kind
  message.hidden = false
}
if (!token) show('This page needs the setup link printed in the server log.', 'error')
form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const body = Object.fromEntries(new FormData(form))
  const response = await fetch('/api/setup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, ...body }),
  })
  const answer = await response.json().catch(() => ({}))
  if (response.ok) {
    form.hidden = true
    history.replaceState(null, '', location.pathname)
    show(
      'Done. Sign in with ' +
        answer.record.email +
        ' through the API (POST /api/collections/_superusers/auth-with-password).',
      'ok',
    )
  } else {
    const fields = answer.errors
      ? Object.entries(answer.errors)
          .map(([k, v]) => k + ': ' + v.message)
          .join('; ')
      : ''
    show((answer.detail || 'The setup failed.') + (fields ? ' ' + fields : ''), 'error')
  }
})
