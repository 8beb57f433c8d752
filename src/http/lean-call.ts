import type { DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import type { NodeResponse } from "./node-types.js";

// The lean path's per-call objects. They are classes, not object literals,
// because their properties are lazy getters, and a literal whose getters
// closed over the call kept the call's objects alive through young
// collections (why, inside V8, was not traced): with the handler context
// written that way, a quarter of each scavenge survived at 3,000 JSON
// calls/s (--trace-gc-nvp), and 0.2 % with these classes.

/** An abort signal made only when asked for: most calls never ask, and an AbortController is costly. */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;

  /** `watch`, if given, is called with abort() when the signal is first asked for, to start watching for cancellation then. */
  constructor(private readonly watch?: (abort: () => void) => void) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
      else this.watch?.(() => this.abort());
    }
    return this.#controller.signal;
  }

  abort(): void {
    this.#aborted = true;
    this.#controller?.abort();
  }
}

/** A LazyAbort for a call answered through `res`: aborted if the client goes away before the answer is written. */
export function abortWhenClientLeaves(res: NodeResponse): LazyAbort {
  // An HTTP/2 compatibility response has neither `closed` nor a meaningful `writableFinished` once reset: its stream tells.
  const closed = () => ("stream" in res ? res.stream.closed : res.closed);
  const left = () => ("stream" in res ? res.stream.aborted || res.stream.rstCode !== 0 : !res.writableFinished);
  return new LazyAbort((abort) => {
    const onClose = () => {
      if (left()) abort();
    };
    if (closed()) onClose();
    else res.once("close", onClose);
  });
}

/** A HandlerContext with no deadline, whose response headers and trailers exist only once a handler touches them. */
export class PlainContext implements HandlerContext {
  touchedHeader: Headers | undefined;
  touchedTrailer: Headers | undefined;

  constructor(
    readonly service: DescService,
    readonly method: DescMethodUnary,
    readonly requestMethod: string,
    readonly protocolName: string,
    readonly url: string,
    readonly requestHeader: Headers,
    readonly values: ContextValues,
    private readonly cancel: LazyAbort,
  ) {}

  get signal(): AbortSignal {
    return this.cancel.signal;
  }

  timeoutMs(): undefined {
    return undefined;
  }

  get responseHeader(): Headers {
    return (this.touchedHeader ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.touchedTrailer ??= new Headers());
  }
}

/** The request the interceptors see; it carries its context to the handler. */
export class LeanRequest implements UnaryRequest {
  readonly stream = false;

  constructor(
    readonly service: DescService,
    readonly method: DescMethodUnary,
    readonly requestMethod: string,
    readonly url: string,
    readonly header: Headers,
    readonly contextValues: ContextValues,
    readonly message: Message,
    readonly ctx: HandlerContext,
  ) {}

  get signal(): AbortSignal {
    return this.ctx.signal;
  }
}

/** The handler's answer as the interceptors see it; headers and trailers are the context's, made when asked for. */
export class LeanResponse implements UnaryResponse {
  readonly stream = false;

  constructor(
    readonly service: DescService,
    readonly method: DescMethodUnary,
    readonly message: Message,
    private readonly ctx: HandlerContext,
  ) {}

  get header(): Headers {
    return this.ctx.responseHeader;
  }

  get trailer(): Headers {
    return this.ctx.responseTrailer;
  }
}
