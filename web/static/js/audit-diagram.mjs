// The auditor's diagram: the instance's own diagram version drawn by the bpmn-js navigated
// viewer (window.BpmnJS, loaded from /static/vendor), with the path, open tasks and waiting
// timers highlighted as the server computed them from the audit trail. Selecting an element
// shows its events in the table below. Progressive enhancement: without JavaScript the
// page still lists every step and event, and the step links filter on the server.
const container = document.getElementById('audit-diagram')
const table = document.querySelector('[data-audit-events]')
const heading = document.getElementById('events')
const status = document.getElementById('events-status')

function rows () {
  return table ? Array.from(table.querySelectorAll(':scope > tbody > tr')) : []
}

function showAll () {
  for (const row of rows()) row.hidden = false
  heading.textContent = heading.dataset.allText
  status.textContent = ''
  const url = new URL(window.location.href)
  url.searchParams.delete('element')
  window.history.replaceState(null, '', url)
}

function filter (elementId, names) {
  if (!table || !heading) return
  if (table.dataset.complete !== 'true') { // a long process: the server lists the step's events
    const url = new URL(window.location.href)
    url.searchParams.set('element', elementId)
    url.hash = 'events'
    window.location.assign(url)
    return
  }
  let shown = 0
  for (const row of rows()) {
    row.hidden = row.dataset.element !== elementId
    if (!row.hidden) shown += 1
  }
  const name = names[elementId] || elementId
  heading.textContent = `Events for “${name}”`
  status.textContent = ''
  const summary = document.createElement('span')
  summary.textContent = shown === 1 ? '1 event. ' : `${shown} events. `
  const all = document.createElement('a')
  all.className = 'govuk-link'
  all.href = '#events'
  all.id = 'show-all-events'
  all.textContent = 'Show every event in this process'
  all.addEventListener('click', (event) => {
    event.preventDefault()
    showAll()
    heading.focus()
  })
  status.append(summary, all)
  const url = new URL(window.location.href)
  url.searchParams.set('element', elementId)
  window.history.replaceState(null, '', url)
  heading.focus()
}

async function draw () {
  const state = JSON.parse(container.dataset.state)
  const names = state.names || {}
  const existing = document.getElementById('show-all-events')
  if (existing && table && table.dataset.complete === 'true') {
    existing.addEventListener('click', (event) => {
      event.preventDefault()
      showAll()
      heading.focus()
    })
  }
  for (const link of document.querySelectorAll('.app-audit-steps a[data-element]')) {
    link.addEventListener('click', (event) => {
      event.preventDefault()
      filter(link.dataset.element, names)
    })
  }
  if (!window.BpmnJS) return
  const canvasElement = document.createElement('div')
  canvasElement.className = 'app-audit-diagram__canvas'
  container.replaceChildren(canvasElement)
  const viewer = new window.BpmnJS({ container: canvasElement })
  try {
    await viewer.importXML(container.dataset.bpmn)
  } catch (error) {
    const message = document.createElement('p')
    message.className = 'govuk-body'
    message.textContent = 'The diagram could not be drawn. The steps and every event are listed below.'
    container.replaceChildren(message)
    return
  }
  const canvas = viewer.get('canvas')
  const registry = viewer.get('elementRegistry')
  const overlays = viewer.get('overlays')
  canvas.zoom('fit-viewport')
  for (const [id, classes] of Object.entries(state.markers || {})) {
    if (!registry.get(id)) continue
    for (const marker of classes) canvas.addMarker(id, marker)
  }
  for (const overlay of state.overlays || []) {
    if (!registry.get(overlay.element)) continue
    const badge = document.createElement('span')
    badge.className = `app-audit-badge app-audit-badge--${overlay.kind}`
    badge.textContent = overlay.text
    overlays.add(overlay.element, { position: { top: -12, left: 0 }, html: badge })
  }
  viewer.get('eventBus').on('element.click', (event) => {
    const element = event.element && (event.element.labelTarget || event.element)
    if (!element || !(element.id in names)) return // lanes, pools, flows: no events of their own
    filter(element.id, names)
  })
  container.dataset.ready = 'true'
}

if (container) draw()
