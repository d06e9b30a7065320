// Read-only diagrams (bpmn-js navigated viewer from web/static/vendor): a version, or the
// two sides of a comparison with changed elements coloured. The page lists everything in
// text as well; the diagram is an aid, not the only way to see a change.
const BpmnJS = window.BpmnJS

async function showDiagram (container) {
  const note = container.parentElement.querySelector('.app-diagram__status')
  try {
    const viewer = new BpmnJS({ container })
    const response = await fetch(container.dataset.src, { credentials: 'same-origin' })
    if (!response.ok) throw new Error(`could not be loaded (${response.status})`)
    await viewer.importXML(await response.text())
    const canvas = viewer.get('canvas')
    const registry = viewer.get('elementRegistry')
    canvas.zoom('fit-viewport')
    const markers = JSON.parse(container.dataset.markers || '{}')
    for (const [id, kind] of Object.entries(markers)) {
      if (registry.get(id)) canvas.addMarker(id, `app-diff--${kind}`)
    }
    container.dataset.ready = 'true'
    if (note) note.textContent = ''
  } catch (error) {
    if (note) note.textContent = `The diagram ${error.message}; the table lists its steps.`
  }
}

if (BpmnJS) {
  document.querySelectorAll('.app-diagram[data-src]').forEach(showDiagram)
}
