// The GOV.UK timeout warning on every signed-in page (web/security/session_timeout.py).
//
// The server renders the session's idle lifetime and how long before its end to warn; the
// page counts from its own arrival (the answer that renewed the session). Time is read from
// the clock on every tick, so a laptop waking from sleep sees the truth at once. Any answer
// that renews the session (a page in another tab, "Stay signed in", a draft saved while
// typing) moves the end for every tab of this worker through localStorage.
//
// The dialog is the browser's modal <dialog>: focus goes into it and stays there, the page
// behind is inert, and Escape means "stay signed in". When nobody answers, the task form's
// entries are kept in the tab (kept-entries.mjs) and the page goes to the timed-out address,
// which asks the worker to sign in again and brings them back.
import { hold, taskForm } from './kept-entries.mjs'

const page = document.getElementById('app-session')
const dialog = document.getElementById('timeout-dialog')
const lifetimeMs = Number(page?.dataset.lifetime || 0) * 1000
const warningMs = Number(page?.dataset.warning || 0) * 1000
const MARGIN_MS = 1500 // the server's clock counts whole seconds from its answer
const SHARED = `pace.session.endsAt.${page?.dataset.user}`
let endsAt = Date.now() + lifetimeMs + MARGIN_MS
let state = 'waiting' // 'warning' while the dialog is open, 'staying', 'leaving'

function shared () {
  try {
    return Number(window.localStorage.getItem(SHARED)) || 0
  } catch (error) {
    return 0
  }
}

/** The session was renewed just now (for ``seconds``, or the page's lifetime). */
export function renewed (seconds) {
  endsAt = Math.max(endsAt, Date.now() + (seconds ? seconds * 1000 : lifetimeMs) + MARGIN_MS)
  try {
    window.localStorage.setItem(SHARED, String(endsAt))
  } catch (error) {
    // other tabs will warn on their own count
  }
  if (state === 'warning') closeQuietly()
}

/** "2 minutes", then "50 seconds", "40 seconds" …: a change a screen reader can follow. */
export function words (msLeft) {
  const seconds = Math.max(1, Math.ceil(msLeft / 1000))
  if (seconds > 50) {
    const minutes = Math.ceil(seconds / 60)
    return `${minutes} minute${minutes === 1 ? '' : 's'}`
  }
  return `${Math.ceil(seconds / 10) * 10} seconds`
}

function show (msLeft) {
  const time = dialog.querySelector('.app-timeout-dialog__time')
  const text = words(msLeft)
  if (time.textContent !== text) time.textContent = text // announced (aria-live polite)
}

function open () {
  state = 'warning'
  show(endsAt - MARGIN_MS - Date.now())
  document.getElementById('timeout-dialog-kept').hidden = !taskForm()
  dialog.showModal()
  document.getElementById('timeout-dialog-stay').focus()
}

function closeQuietly () {
  state = 'waiting'
  if (dialog.open) dialog.close()
}

function leave () {
  if (state === 'leaving') return
  state = 'leaving'
  const form = taskForm()
  if (form) hold(form)
  const here = window.location.pathname + window.location.search
  window.location.assign(`${page.dataset.timedOutUrl}?next=${encodeURIComponent(here)}`)
}

async function stay () {
  state = 'staying'
  if (dialog.open) dialog.close()
  const token = document.querySelector('meta[name="csrf-token"]').content
  try {
    const response = await window.fetch(page.dataset.keepAliveUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': token, Accept: 'application/json' }
    })
    if (response.status === 401 || response.status === 400) return leave()
    if (response.ok) {
      state = 'waiting'
      return renewed((await response.json()).seconds_left)
    }
  } catch (error) {
    // no answer: the next tick warns again while time is left
  }
  state = 'waiting'
}

function tick () {
  endsAt = Math.max(endsAt, shared())
  const left = endsAt - Date.now()
  if (left <= 0 && state !== 'staying') return leave()
  if (state === 'waiting' && left <= warningMs + MARGIN_MS) open()
  else if (state === 'warning' && left > warningMs + MARGIN_MS) closeQuietly() // renewed elsewhere
  else if (state === 'warning') show(left - MARGIN_MS)
}

if (page && dialog && lifetimeMs > 0) {
  renewed()
  dialog.addEventListener('cancel', (event) => { // Escape
    event.preventDefault()
    stay()
  })
  dialog.addEventListener('close', () => { // closed some other way: as Escape
    if (state === 'warning') stay()
  })
  document.getElementById('timeout-dialog-stay').addEventListener('click', () => stay())
  window.addEventListener('storage', (event) => {
    if (event.key === SHARED && Number(event.newValue) > endsAt) {
      endsAt = Number(event.newValue)
      if (state === 'warning') closeQuietly()
    }
  })
  window.setInterval(tick, 500)
}
