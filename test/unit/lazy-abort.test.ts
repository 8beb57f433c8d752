import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { LazyAbort, abortWhenClientLeaves } from "../../src/http/lean-call.js";

describe("LazyAbort", () => {
  test("starts watching for cancellation only when the signal is first asked for", () => {
    const watch = jest.fn<void, [() => void]>();
    const cancel = new LazyAbort(watch);
    expect(watch).not.toHaveBeenCalled();
    const { signal } = cancel;
    expect(watch).toHaveBeenCalledTimes(1);
    expect(cancel.signal).toBe(signal);
    expect(watch).toHaveBeenCalledTimes(1);
    expect(signal.aborted).toBe(false);
    // What the watcher sees (the client going away) aborts the signal.
    watch.mock.calls[0][0]();
    expect(signal.aborted).toBe(true);
  });

  test("a call aborted before anyone asked gives an aborted signal, without watching", () => {
    const watch = jest.fn<void, [() => void]>();
    const cancel = new LazyAbort(watch);
    cancel.abort();
    expect(cancel.signal.aborted).toBe(true);
    expect(watch).not.toHaveBeenCalled();
  });
});

describe("abortWhenClientLeaves", () => {
  /** A real server whose one request is handled by `handle`; the client goes away after `leaveAfterMs`. */
  async function serveOnce(handle: (res: http.ServerResponse) => Promise<void>, leaveAfterMs?: number) {
    let done!: Promise<void>;
    const server = http.createServer((_req, res) => (done = handle(res)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const request = http.request({ port, host: "127.0.0.1", method: "POST" });
    request.on("error", () => undefined);
    request.end("{}");
    if (leaveAfterMs !== undefined) setTimeout(() => request.destroy(), leaveAfterMs);
    else request.on("response", (r) => r.resume());
    while (!done) await new Promise((resolve) => setTimeout(resolve, 5));
    await done;
    server.close();
  }
  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test("aborts the signal when the client leaves before the answer", async () => {
    let aborted: boolean | undefined;
    await serveOnce(async (res) => {
      const { signal } = abortWhenClientLeaves(res);
      await settle(200);
      aborted = signal.aborted;
      res.end();
    }, 50);
    expect(aborted).toBe(true);
  });

  test("asked for after the client left, the signal is already aborted", async () => {
    let aborted: boolean | undefined;
    await serveOnce(async (res) => {
      const cancel = abortWhenClientLeaves(res);
      await settle(200);
      aborted = cancel.signal.aborted;
    }, 50);
    expect(aborted).toBe(true);
  });

  test("an answered call is not aborted when its response closes", async () => {
    let signal: AbortSignal | undefined;
    await serveOnce(async (res) => {
      signal = abortWhenClientLeaves(res).signal;
      res.end("ok");
      await settle(100);
    });
    expect(signal?.aborted).toBe(false);
  });
});

describe("abortWhenClientLeaves over HTTP/2 (the compatibility API)", () => {
  test("a stream the client cancels aborts the signal, even when asked for after", async () => {
    const server = http2.createServer();
    const seen = new Promise<boolean>((resolve) => {
      server.on("request", (_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        const cancel = abortWhenClientLeaves(res);
        setTimeout(() => resolve(cancel.signal.aborted), 200);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const stream = client.request({ ":method": "POST" });
    stream.on("error", () => undefined);
    stream.end("{}");
    setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 50);
    try {
      expect(await seen).toBe(true);
    } finally {
      client.destroy();
      server.close();
    }
  });

  test("an answered stream is not aborted", async () => {
    const server = http2.createServer();
    const seen = new Promise<boolean>((resolve) => {
      server.on("request", (_req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        const { signal } = abortWhenClientLeaves(res);
        res.end("ok");
        setTimeout(() => resolve(signal.aborted), 100);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const stream = client.request({ ":method": "POST" });
    stream.resume();
    stream.end("{}");
    try {
      expect(await seen).toBe(false);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
