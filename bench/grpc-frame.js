// gRPC's length-prefixed message frame, uncompressed, for the benchmarks.
"use strict";

function grpcFrame(bytes) {
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

module.exports = { grpcFrame };
