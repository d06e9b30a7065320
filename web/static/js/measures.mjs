// Draws an aim's run chart with Chart.js (loaded from /static/vendor, no CDN).
// The page already shows every figure in tables: this is progressive enhancement.
// One label per calendar month: a month with no point is null, drawn as a gap (spanGaps
// off), so months are spaced as time passes. A point resting on few children is hollow and
// its tooltip says so; every point's tooltip gives "n of d children". Text is 16 px.
const dataElement = document.getElementById('run-chart-data')
const canvas = document.getElementById('run-chart')
const Chart = window.Chart

if (dataElement && canvas && Chart) {
  const data = JSON.parse(dataElement.textContent)
  const n = data.labels.length
  const line = (value) => Array(n).fill(value)
  const flagged = data.signals.map((rules) => rules.length > 0)
  const few = data.few
  const colour = (i) => (flagged[i] ? '#d4351c' : '#0b0c0c')
  Chart.defaults.font.size = 16

  // Vertical lines for PDSA cycles (dashed) and diagram deployments (solid), numbered to
  // match the list of annotations under the chart.
  const annotations = {
    id: 'paceAnnotations',
    afterDatasetsDraw (chart) {
      const { ctx, chartArea, scales } = chart
      ctx.save()
      ctx.font = '16px system-ui, sans-serif'
      ctx.textAlign = 'center'
      for (const note of data.annotations) {
        if (note.index === null) continue
        const x = scales.x.getPixelForValue(note.index)
        ctx.strokeStyle = note.kind === 'pdsa' ? '#1d70b8' : '#505a5f'
        ctx.fillStyle = ctx.strokeStyle
        ctx.setLineDash(note.kind === 'pdsa' ? [4, 4] : [])
        ctx.beginPath()
        ctx.moveTo(x, chartArea.top + 14)
        ctx.lineTo(x, chartArea.bottom)
        ctx.stroke()
        ctx.fillText(String(note.number), x, chartArea.top + 10)
      }
      ctx.restore()
    }
  }

  const chart = new Chart(canvas, {
    type: 'line',
    data: {
      labels: data.labels,
      datasets: [
        {
          label: data.title,
          data: data.values,
          borderColor: '#0b0c0c',
          backgroundColor: flagged.map((f, i) => (few[i] ? '#ffffff' : colour(i))),
          pointBackgroundColor: flagged.map((f, i) => (few[i] ? '#ffffff' : colour(i))),
          pointBorderColor: flagged.map((f, i) => colour(i)),
          pointBorderWidth: 2,
          pointRadius: flagged.map((f) => (f ? 6 : 4)),
          pointStyle: flagged.map((f) => (f ? 'rectRot' : 'circle')),
          spanGaps: false,
          tension: 0
        },
        { label: 'Median', data: line(data.median), borderColor: '#00703c', borderDash: [8, 4], pointRadius: 0 },
        { label: 'Target', data: line(data.target), borderColor: '#f47738', borderDash: [2, 3], pointRadius: 0 }
      ]
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: 2.5,
      scales: { y: { min: 0, max: 100, title: { display: true, text: '%' } } },
      plugins: {
        tooltip: {
          callbacks: {
            afterLabel: (item) => {
              if (item.datasetIndex !== 0) return ''
              const i = item.dataIndex
              const lines = []
              if (data.denominators[i] !== null) {
                lines.push(`${data.numerators[i]} of ${data.denominators[i]} ` +
                           (data.denominators[i] === 1 ? 'child' : 'children'))
              }
              if (few[i]) lines.push(`Fewer than ${data.few_children} children: read with care`)
              if (data.signals[i].length) lines.push('Signal: ' + data.signals[i].join(', '))
              return lines
            }
          }
        }
      }
    },
    plugins: [annotations]
  })
  canvas.dataset.rendered = 'true'
  canvas.dataset.months = String(n)
  canvas.dataset.gaps = String(data.values.filter((v) => v === null).length)
  canvas.dataset.annotations = String(data.annotations.filter((a) => a.index !== null).length)

  // PNG download of the chart as drawn.
  const downloads = document.getElementById('run-chart-downloads')
  if (downloads) {
    const link = document.createElement('a')
    link.className = 'govuk-link'
    link.href = '#'
    link.textContent = 'Download the chart (PNG)'
    link.addEventListener('click', (event) => {
      event.preventDefault()
      const file = document.createElement('a')
      file.href = chart.toBase64Image('image/png', 1)
      file.download = (data.title.replace(/[^A-Za-z0-9]+/g, '-') || 'run-chart') + '.png'
      file.click()
    })
    downloads.append(' · ', link)
  }
}
