// "Try it" on the API reference page (/api/v1/docs): same-origin fetches only.
// Reading uses the signed-in session; a pasted token (kept in this page's memory only,
// never stored) is sent as a Bearer header and is needed for changes.
const tokenBox = document.getElementById("api-try-token");
const tokenInput = document.getElementById("api-token");

function buildUrl(form) {
  let path = form.dataset.path;
  const query = new URLSearchParams();
  for (const input of form.querySelectorAll("input[data-in]")) {
    if (input.dataset.in === "path") {
      path = path.replace(`{${input.name}}`, encodeURIComponent(input.value));
    } else if (input.value !== "") {
      query.append(input.name, input.value);
    }
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function send(form) {
  const out = form.querySelector(".app-api-result");
  const method = form.dataset.method;
  const headers = { Accept: "application/json" };
  if (tokenInput && tokenInput.value.trim()) {
    headers.Authorization = `Bearer ${tokenInput.value.trim()}`;
  }
  const options = { method, headers, credentials: "same-origin" };
  const body = form.querySelector("textarea[name=body]");
  if (body) {
    headers["Content-Type"] = "application/json";
    options.body = body.value;
  }
  out.hidden = false;
  out.textContent = "Sending…";
  try {
    const response = await fetch(buildUrl(form), options);
    const text = await response.text();
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON (e.g. an empty 204): show as it came
    }
    out.textContent = `${response.status} ${response.statusText}\n\n${shown}`;
  } catch (error) {
    out.textContent = `The request failed: ${error}`;
  }
}

if (tokenBox) {
  tokenBox.hidden = false;
}
for (const form of document.querySelectorAll("form.app-api-try")) {
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(form);
  });
}
