import { LazyAbort } from "../../src/http/lean-call.js";

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
