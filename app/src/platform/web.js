// fetch for web.rs: one request with the client's rules (no credentials, no referrer, no
// redirects), aborted after `timeoutMs` body included, the answer read as a stream and given
// up past `maxBytes`; `controller` is web.rs's, which aborts it when the caller gives up.
// Resolves to [status, body]; rejects with 'connect', 'timeout' or 'other'.
export async function request(url, body, timeoutMs, maxBytes, controller) {
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const failed = (otherwise) => (controller.signal.aborted ? 'timeout' : otherwise);
  try {
    let response;
    try {
      response = await fetch(url, {
        method: body ? 'POST' : 'GET',
        body,
        headers: body ? { 'content-type': 'application/octet-stream' } : {},
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        redirect: 'error',
        signal: controller.signal,
      });
    } catch {
      throw failed('connect');
    }
    if (Number(response.headers.get('content-length')) > maxBytes) throw 'other';
    const chunks = [];
    let size = 0;
    const reader = response.body?.getReader();
    for (;;) {
      let chunk;
      try {
        chunk = reader ? await reader.read() : { done: true };
      } catch {
        throw failed('other');
      }
      if (chunk.done) break;
      size += chunk.value.length;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        throw 'other';
      }
      chunks.push(chunk.value);
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    return [response.status, all];
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
