import { StoreUnavailableError, type InviteStore } from "../../src/store/store.js";
import { describeLifecycle } from "./contract-lifecycle.js";
import { describeRecords } from "./contract-records.js";
import { draft } from "./invite-drafts.js";

export interface StoreFactory {
  open(): Promise<InviteStore>;
  /** Opens the database of the last open() again. */
  reopen(): Promise<InviteStore>;
  /** Removes what open() made. */
  cleanup(): Promise<void>;
}

/** The behaviour every InviteStore must have, run against each implementation. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} store contract`, () => {
    let store: InviteStore;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup();
    });

    describeRecords(() => store);
    describeLifecycle(() => store);

    test("closing lets the calls already made finish, then refuses calls as unavailable", async () => {
      const stored = draft();
      await store.createInvite(stored);
      const drafts = [draft(), draft(), draft()];
      const creates = drafts.map((invite) => store.createInvite(invite));
      const read = store.findInviteById("ns1", stored.id);
      const closed = store.close();
      await expect(Promise.all(creates)).resolves.toEqual(drafts.map((invite) => ({ invite, created: true })));
      await expect(read).resolves.toEqual(stored);
      await closed;
      await expect(store.createInvite(draft())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.findInviteById("ns1", drafts[0].id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.close()).resolves.toBeUndefined();
      const reopened = await factory.reopen();
      try {
        await expect(Promise.all(drafts.map((invite) => reopened.findInviteById("ns1", invite.id)))).resolves.toEqual(drafts);
      } finally {
        await reopened.close();
      }
    });
  });
}
