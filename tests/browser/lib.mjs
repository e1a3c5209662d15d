// lib.mjs -- helpers shared by the HTTP tests: a checker that counts
// failures, raw-socket requests (for what fetch() would normalise or refuse:
// "..", bad bytes, huge request lines, slow or many connections).
import net from 'node:net';

export function checker() {
  const failures = [];
  return {
    ok: (c, m) => { if (c) console.log('ok   ' + m); else { failures.push(m); console.log('FAIL ' + m); } return c; },
    fail: (m) => { failures.push(m); console.log('FAIL ' + m); },
    done: () => { console.log(failures.length ? `${failures.length} failure(s)` : 'all passed'); process.exit(failures.length ? 1 : 0); },
  };
}

// Send raw bytes, read until the server closes or timeout ms; resolves
// { status, head, body, closed } (status 0 = no HTTP answer).
export function raw(port, bytes, timeout = 5000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      s.destroy();
      const buf = Buffer.concat(chunks);
      const text = buf.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const i = text.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, head: i >= 0 ? text.slice(0, i) : text,
        body: i >= 0 ? buf.subarray(i + 4).toString('utf8') : '', closed });
    };
    s.setTimeout(timeout, () => finish(false));
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.write(bytes);
  });
}

// A GET with Connection: close over a raw socket.
export const rawGet = (port, target, extra = '') =>
  raw(port, Buffer.concat([Buffer.from('GET '), Buffer.isBuffer(target) ? target : Buffer.from(target, 'latin1'),
    Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`)]));
