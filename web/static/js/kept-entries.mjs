// Entries of a task form kept in this browser tab, so a submit that finds the session ended
// loses nothing (web/pages/kept_entries.py says what the server does with such a submit).
//
// Every submit of the task form keeps its fields here first. The next signed-in page means
// the submit arrived: they are forgotten. A signed-out page (the sign-in page after the
// session ended) marks them as waiting for sign-in and says so; once the same worker is
// signed in again and the same task's form is shown, they are posted back to it (action
// "restore"), which shows them in the form without saving anything. Nothing is kept longer
// than an hour or past "Sign out", and sessionStorage ends with the tab.
const KEY = 'pace.keptEntries'
const MAX_AGE_MS = 60 * 60 * 1000
const page = document.getElementById('app-session')

function read () {
  try {
    const kept = JSON.parse(window.sessionStorage.getItem(KEY))
    return kept && Date.now() - kept.at < MAX_AGE_MS ? kept : null
  } catch (error) {
    return null
  }
}

function write (kept) {
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify(kept))
  } catch (error) {
    // storage full or switched off: the autosaved draft still holds the entries
  }
}

export function forget () {
  try {
    window.sessionStorage.removeItem(KEY)
  } catch (error) {
    // nothing kept
  }
}

// The form's address: not form.action, which the task form's buttons (name="action") hide.
function addressOf (form) {
  return new URL(form.getAttribute('action') || '', window.location.href)
}

function pathOf (form) {
  return addressOf(form).pathname
}

export function taskForm () {
  return document.querySelector('form#task-form')
}

/** Keep the form's fields (not its token or button) for this worker and task. */
export function hold (form) {
  if (!form || !page) return
  const pairs = []
  for (const [name, value] of new FormData(form)) {
    if (name !== 'csrf_token' && name !== 'action' && typeof value === 'string') pairs.push([name, value])
  }
  write({ user: page.dataset.user, path: pathOf(form), pairs, at: Date.now(), afterSignIn: false })
}

function putBack (form, pairs) {
  const back = document.createElement('form')
  back.method = 'post'
  back.action = addressOf(form).href
  back.hidden = true
  const add = (name, value) => {
    const input = document.createElement('input')
    input.type = 'hidden'
    input.name = name
    input.value = value
    back.append(input)
  }
  for (const [name, value] of pairs) add(name, value)
  add('csrf_token', form.elements.namedItem('csrf_token').value)
  add('action', 'restore')
  document.body.append(back)
  back.submit()
}

function onSignedOutPage () {
  const kept = read()
  if (!kept) return forget()
  write({ ...kept, afterSignIn: true })
  const note = document.getElementById('kept-entries-note')
  if (note) note.hidden = false
}

function onSignedInPage () {
  const kept = read()
  if (!kept) return forget()
  const sameWorker = kept.user === page.dataset.user
  const form = taskForm()
  const theTask = form && form.dataset.keptEntries === 'fresh' && pathOf(form) === kept.path
  if (kept.afterSignIn && sameWorker && theTask) {
    forget()
    putBack(form, kept.pairs)
  } else if (!kept.afterSignIn || !sameWorker) {
    forget() // the submit arrived, or someone else signed in
  } // else: signed in again but not on the task yet; kept until its form is shown (an hour)
}

if (page) {
  document.addEventListener('submit', (event) => {
    const form = event.target
    if (form.matches('form#task-form')) hold(form)
    else if (pathOf(form).endsWith('/sign-out')) forget()
  }, true)
  if (page.dataset.signedIn === 'true') onSignedInPage()
  else onSignedOutPage()
}
