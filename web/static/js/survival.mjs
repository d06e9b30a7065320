// Draws Kaplan–Meier curves (share still waiting against weeks) with Chart.js from
// /static/vendor. The page shows the same figures in tables: progressive enhancement.
const dataElement = document.getElementById('survival-chart-data')
const canvas = document.getElementById('survival-chart')
const Chart = window.Chart
const COLOURS = ['#0b0c0c', '#1d70b8', '#d4351c', '#00703c', '#4c2c92', '#f47738']

if (dataElement && canvas && Chart) {
  const data = JSON.parse(dataElement.textContent)

  // The aim's threshold as a dashed vertical line, labelled.
  const threshold = {
    id: 'paceThreshold',
    afterDatasetsDraw (chart) {
      if (data.threshold_weeks === null) return
      const { ctx, chartArea, scales } = chart
      const x = scales.x.getPixelForValue(data.threshold_weeks)
      if (x < chartArea.left || x > chartArea.right) return
      ctx.save()
      ctx.strokeStyle = '#f47738'
      ctx.fillStyle = '#0b0c0c'
      ctx.setLineDash([6, 4])
      ctx.beginPath()
      ctx.moveTo(x, chartArea.top)
      ctx.lineTo(x, chartArea.bottom)
      ctx.stroke()
      ctx.font = '12px system-ui, sans-serif'
      ctx.fillText('Threshold', x + 4, chartArea.top + 12)
      ctx.restore()
    }
  }

  // eslint-disable-next-line no-new
  new Chart(canvas, {
    type: 'line',
    data: {
      datasets: data.curves.map((curve, index) => ({
        label: curve.label,
        data: curve.points,
        borderColor: COLOURS[index % COLOURS.length],
        backgroundColor: COLOURS[index % COLOURS.length],
        stepped: true, // Kaplan–Meier: level until the next decision, then a drop
        pointRadius: 0,
        borderWidth: 2
      }))
    },
    options: {
      animation: false,
      responsive: true,
      aspectRatio: 2.5,
      parsing: false,
      scales: {
        x: { type: 'linear', min: 0, title: { display: true, text: data.x_label } },
        y: { min: 0, max: 100, title: { display: true, text: '% still waiting' } }
      }
    },
    plugins: [threshold]
  })
  canvas.dataset.rendered = 'true'
  canvas.dataset.curves = String(data.curves.length)
}
