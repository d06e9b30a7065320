// The diagram editor: the bpmn-js modeler (web/static/vendor, from the npm package) with a
// small panel of our own for the PACE properties (spiffworkflow:properties), read and written
// through the modeler's moddle API so every change can be undone (Ctrl+Z) like any other.
// Saving puts the modeler's XML into the form's file field and submits the form normally.
const BpmnJS = window.BpmnJS
const canvasElement = document.getElementById('canvas')
const panel = document.getElementById('pace-properties')
const saveForm = document.getElementById('save-form')
const status = document.getElementById('editor-status')

// The spiffworkflow extension, as SpiffArena writes it:
// <spiffworkflow:properties><spiffworkflow:property name="due" value="LA_START+3w"/>…
const spiffworkflow = {
  name: 'SpiffWorkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  prefix: 'spiffworkflow',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    {
      name: 'Properties',
      superClass: ['Element'],
      properties: [{ name: 'values', type: 'Property', isMany: true }]
    },
    {
      name: 'Property',
      superClass: ['Element'],
      properties: [
        { name: 'name', isAttr: true, type: 'String' },
        { name: 'value', isAttr: true, type: 'String' }
      ]
    },
    // Kept as they are (SpiffArena writes them; PACE Flow refuses scripts when checking).
    ...['PreScript', 'PostScript', 'InstructionsForEndUser', 'CalledDecisionId', 'MessageVariable',
      'MessagePayload', 'SignalPayload', 'AllowGuest', 'GuestConfirmation', 'SignalButtonLabel']
      .map((name) => ({ name, superClass: ['Element'], properties: [{ name: 'value', isBody: true, type: 'String' }] }))
  ]
}

const USER_TASK_ONLY = ['due', 'remind', 'escalate', 'formJsonSchemaFilename', 'formUiSchemaFilename']
const EDITABLE = /^bpmn:(UserTask|Task|ManualTask|StartEvent|EndEvent|IntermediateCatchEvent|IntermediateThrowEvent|BoundaryEvent|ExclusiveGateway|ParallelGateway|InclusiveGateway|EventBasedGateway)$/

function say (text) {
  if (status) status.textContent = text
}

function readableType (type) {
  return type.replace('bpmn:', '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
}

if (BpmnJS && canvasElement && panel && saveForm) {
  const modeler = new BpmnJS({
    container: canvasElement,
    moddleExtensions: { spiffworkflow }
  })
  const moddle = modeler.get('moddle')
  const modeling = modeler.get('modeling')
  const registry = modeler.get('elementRegistry')
  const selection = modeler.get('selection')
  const canvas = modeler.get('canvas')
  const choice = document.getElementById('element-choice')
  const summary = document.getElementById('element-summary')
  const nameInput = document.getElementById('prop-name')
  const inputs = [...panel.querySelectorAll('[data-property]')]
  let current = null
  let dirty = false

  function propertiesOf (bo) {
    const ext = bo.extensionElements
    const holder = ext && (ext.values || []).find((v) => v.$instanceOf('spiffworkflow:Properties'))
    return { ext, holder }
  }

  function readProperty (bo, name) {
    const { holder } = propertiesOf(bo)
    const found = holder && (holder.values || []).find((p) => p.name === name)
    return found ? (found.value || '') : ''
  }

  function laneOf (element) {
    const lane = registry.filter((e) => e.type === 'bpmn:Lane' &&
      (e.businessObject.flowNodeRef || []).some((ref) => ref.id === element.id))[0]
    return lane ? (lane.businessObject.name || lane.id) : ''
  }

  // Writes one property; an empty value removes it. One modeling command per step, so the
  // command stack (undo/redo) sees the change.
  function writeProperty (element, name, value) {
    const bo = element.businessObject
    let { ext, holder } = propertiesOf(bo)
    const existing = holder && (holder.values || []).find((p) => p.name === name)
    if (!value) {
      if (existing) {
        modeling.updateModdleProperties(element, holder, { values: holder.values.filter((p) => p !== existing) })
      }
      return
    }
    if (existing) {
      modeling.updateModdleProperties(element, existing, { value })
      return
    }
    if (!ext) {
      ext = moddle.create('bpmn:ExtensionElements', { values: [] })
      modeling.updateProperties(element, { extensionElements: ext })
    }
    if (!holder) {
      holder = moddle.create('spiffworkflow:Properties', { values: [] })
      modeling.updateModdleProperties(element, ext, { values: [...(ext.values || []), holder] })
    }
    const property = moddle.create('spiffworkflow:Property', { name, value })
    modeling.updateModdleProperties(element, holder, { values: [...(holder.values || []), property] })
  }

  function fillChoice () {
    const elements = registry.filter((e) => EDITABLE.test(e.type) && !e.labelTarget)
      .sort((a, b) => (a.businessObject.name || a.id).localeCompare(b.businessObject.name || b.id))
    const keep = current ? current.id : ''
    choice.replaceChildren(new Option('Choose an element', ''))
    for (const element of elements) {
      const label = `${element.businessObject.name || '(no name)'}: ${readableType(element.type)} ${element.id}`
      choice.append(new Option(label, element.id, false, element.id === keep))
    }
  }

  function ensureOption (select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(new Option(`${value} (not among the draft's forms)`, value))
    }
  }

  function show (element) {
    current = element && EDITABLE.test(element.type) ? element : null
    panel.querySelectorAll('[data-for]').forEach((group) => { group.hidden = !current })
    if (!current) {
      summary.textContent = 'Select a task or event on the diagram, or choose it from the list.'
      choice.value = ''
      return
    }
    const bo = current.businessObject
    const isUserTask = current.type === 'bpmn:UserTask'
    const lane = laneOf(current)
    summary.textContent = `${readableType(current.type)} ${current.id}` + (lane ? `, lane ${lane}` : '')
    choice.value = current.id
    nameInput.value = bo.name || ''
    for (const input of inputs) {
      const name = input.dataset.property
      const group = input.closest('[data-for]')
      group.hidden = !isUserTask && USER_TASK_ONLY.includes(name)
      const value = readProperty(bo, name)
      if (input.tagName === 'SELECT') ensureOption(input, value)
      input.value = value
    }
  }

  choice.addEventListener('change', () => {
    const element = registry.get(choice.value)
    if (element) {
      canvas.zoom(1)
      selection.select(element)
      canvas.scrollToElement(element, { top: 120, bottom: 120, left: 160, right: 160 })
    } else {
      selection.select(null)
    }
  })

  nameInput.addEventListener('change', () => {
    if (current) modeling.updateLabel(current, nameInput.value.trim())
  })

  for (const input of inputs) {
    input.addEventListener('change', () => {
      if (!current) return
      writeProperty(current, input.dataset.property, input.value.trim())
      say(`${input.labels[0].textContent.trim()} set on ${current.businessObject.name || current.id}. Not saved yet.`)
    })
  }
  panel.addEventListener('submit', (event) => event.preventDefault())

  modeler.on('selection.changed', ({ newSelection }) => show(newSelection.length === 1 ? newSelection[0] : null))
  modeler.on('commandStack.changed', () => {
    dirty = true
    fillChoice()
    if (current) show(registry.get(current.id) || null)
  })
  window.addEventListener('beforeunload', (event) => {
    if (dirty) event.preventDefault()
  })

  saveForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const action = event.submitter ? event.submitter.value : 'save'
    try {
      const { xml } = await modeler.saveXML({ format: true })
      const file = new File([xml], 'diagram.bpmn', { type: 'application/xml' })
      const transfer = new DataTransfer()
      transfer.items.add(file)
      document.getElementById('diagram-file').files = transfer.files
      document.getElementById('save-action').value = action
      dirty = false
      say('Saving…')
      saveForm.submit()
    } catch (error) {
      say(`The diagram could not be saved: ${error.message}`)
    }
  })

  fetch(canvasElement.dataset.src, { credentials: 'same-origin' })
    .then((response) => {
      if (!response.ok) throw new Error(`the draft could not be loaded (${response.status})`)
      return response.text()
    })
    .then((xml) => modeler.importXML(xml))
    .then(({ warnings }) => {
      canvas.zoom('fit-viewport')
      fillChoice()
      show(null)
      saveForm.querySelectorAll('button').forEach((button) => { button.disabled = false })
      canvasElement.dataset.ready = 'true'
      say(warnings.length
        ? `Diagram loaded, but the editor could not read ${warnings.length} part(s) of it (${warnings.slice(0, 3).map((w) => w.message.split('\n')[0]).join('; ')}). Saving from the editor would drop them: use the properties form or upload a corrected file instead.`
        : 'Diagram loaded.')
    })
    .catch((error) => say(`The diagram could not be shown: ${error.message}`))
}
