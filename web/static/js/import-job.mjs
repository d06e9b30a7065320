// A running caseload import: re-read the job page every few seconds and swap its progress
// part in place (no reload under the reader's cursor), announcing the progress line to
// screen readers. Polling stops once the page says the job has finished.
const region = document.getElementById('job-progress')
const announce = document.getElementById('job-announce')
const seconds = Number(region?.dataset.refresh || 0)

async function tick () {
  try {
    const response = await fetch(window.location.href, { credentials: 'same-origin' })
    if (response.ok) {
      const page = new DOMParser().parseFromString(await response.text(), 'text/html')
      const next = page.getElementById('job-progress')
      if (next) {
        region.innerHTML = next.innerHTML
        document.title = page.title
        const line = next.querySelector('[data-announce] p') || next.querySelector('h1')
        if (announce && line) announce.textContent = line.textContent.trim()
        if (!next.dataset.refresh) return // finished: the page now shows the result
      }
    }
  } catch (error) {
    // the server did not answer this time; try again at the next tick
  }
  window.setTimeout(tick, seconds * 1000)
}

if (region && seconds > 0) window.setTimeout(tick, seconds * 1000)
