import { headersView } from "../../src/http/headers-view.js";

const incoming = {
  ":path": "/invites.v1.InvitesService/Read",
  ":method": "POST",
  authorization: "Bearer k",
  "x-forwarded-for": ["10.0.0.1", "10.0.0.2"],
  "content-type": "application/grpc",
};

test("reads like a copy: case-insensitive, arrays joined, pseudo-headers hidden", () => {
  const view = headersView(incoming);
  expect(view.get("Authorization")).toBe("Bearer k");
  expect(view.get("x-forwarded-for")).toBe("10.0.0.1, 10.0.0.2");
  expect(view.get(":path")).toBeNull();
  expect(view.has("content-type")).toBe(true);
  expect(view.has("micro-namespace")).toBe(false);
  expect([...view]).toEqual([...new Headers({ authorization: "Bearer k", "content-type": "application/grpc", "x-forwarded-for": "10.0.0.1, 10.0.0.2" })]);
});

test("after a change it answers from its copy, and Node's object is untouched", () => {
  const view = headersView(incoming);
  view.set("authorization", "Bearer other");
  view.delete("content-type");
  expect(view.get("authorization")).toBe("Bearer other");
  expect(view.has("content-type")).toBe(false);
  expect(incoming.authorization).toBe("Bearer k");
  const seen: string[] = [];
  view.forEach((value, name, headers) => {
    seen.push(`${name}=${value}`);
    expect(headers).toBe(view);
  });
  expect(seen).toEqual(["authorization=Bearer other", "x-forwarded-for=10.0.0.1, 10.0.0.2"]);
  // connect's deadline context copies the request headers with new Headers(view).
  expect(new Headers(view).get("authorization")).toBe("Bearer other");
});
