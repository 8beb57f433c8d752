import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { parseApiKeys } from "../../src/access/api-keys.js";
import { routes } from "../../src/connect.js";
import { silentLogger } from "../../src/logger.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { InviteStore } from "../../src/store/store.js";

export interface InMemoryService {
  client: Client<typeof InvitesService>;
  store: InviteStore;
  close(): Promise<void>;
}

/** The service's routes behind an in-memory transport, on an in-memory SQLite database. */
export function createInMemoryService(options: { apiKeysText?: string; store?: InviteStore } = {}): InMemoryService {
  const store = options.store ?? openSqliteStore({ filename: ":memory:" });
  const transport = createRouterTransport(
    routes({ store, apiKeys: parseApiKeys({ text: options.apiKeysText ?? "", source: "test keys" }), logger: silentLogger, isServing: async () => true, defaultTtlMs: 7 * 24 * 3600_000 }),
    { router: { jsonOptions: { useProtoFieldName: true, ignoreUnknownFields: true } } },
  );
  return { client: createClient(InvitesService, transport), store, close: () => store.close() };
}
