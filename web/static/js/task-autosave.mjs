// The task form's draft, saved while the worker types (web/pages/task_drafts.py).
//
// A save goes two seconds after typing stops, and at least every thirty seconds while it
// goes on, only when the entries changed since the last save; the quiet status line under
// the buttons says when ("Draft saved at 14:32") or why not. Submitting the form stops it.
import { renewed } from './session-timeout.mjs'

const IDLE_MS = 2000
const LONGEST_MS = 30000
const form = document.querySelector('form#task-form[data-autosave-url]')
const status = document.getElementById('draft-status')
let idleTimer = null
let longestTimer = null
let lastSaved = null
let saving = false
let stopped = false

function entries () {
  const body = new URLSearchParams()
  for (const [name, value] of new FormData(form)) {
    if (name !== 'action' && typeof value === 'string') body.append(name, value)
  }
  return body
}

function say (text) {
  if (status.textContent !== text) status.textContent = text
}

async function save () {
  window.clearTimeout(idleTimer)
  window.clearTimeout(longestTimer)
  idleTimer = longestTimer = null
  if (stopped) return
  if (saving) return schedule() // one save at a time; this one follows
  const body = entries()
  const text = body.toString()
  if (text === lastSaved) return
  saving = true
  try {
    const response = await window.fetch(form.dataset.autosaveUrl, {
      method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' }
    })
    const answer = await response.json().catch(() => ({}))
    if (stopped) return
    if (response.ok) {
      lastSaved = text
      renewed()
    }
    say(answer.message || 'Your entries could not be saved automatically. Use "Save draft".')
  } catch (error) {
    if (!stopped) say('Your entries could not be saved automatically just now. They will be tried again as you type.')
  } finally {
    saving = false
  }
}

function schedule () {
  if (stopped) return
  window.clearTimeout(idleTimer)
  idleTimer = window.setTimeout(save, IDLE_MS)
  if (!longestTimer) longestTimer = window.setTimeout(save, LONGEST_MS)
}

if (form && status) {
  // A page shown from the server's store holds the kept draft (or nothing); one shown
  // from a post (entries put back, or refused) holds entries not saved yet: save them.
  if (form.dataset.keptEntries === 'posted') schedule()
  else lastSaved = entries().toString()
  form.addEventListener('input', schedule)
  form.addEventListener('change', schedule)
  form.addEventListener('submit', () => {
    stopped = true
    window.clearTimeout(idleTimer)
    window.clearTimeout(longestTimer)
  })
}
