import { safeErrorMessage, type Logger } from "../logger.js";
import type { InviteStore } from "../store/store.js";

const purgeIntervalMs = 60 * 60 * 1000;

export interface RetentionOptions {
  store: InviteStore;
  /** Invites revoked, used up or expired longer ago than this are purged. */
  retentionMs: number;
  now?: () => Date;
  logger: Logger;
}

/**
 * Purges finished invites now (resolving once done) and then every interval
 * (hourly by default). Expiry needs no job for correctness; this only keeps
 * the database small.
 */
export async function startRetention({ store, retentionMs, now = () => new Date(), logger }: RetentionOptions) {
  const purge = async () => {
    try {
      const purged = await store.purgeInvites(new Date(now().getTime() - retentionMs));
      if (purged > 0) logger.info("purged finished invites", { purged });
    } catch (err) {
      logger.warn("retention purge failed", { error: safeErrorMessage(err) });
    }
  };
  await purge();
  let running = Promise.resolve();
  const timer = setInterval(() => (running = purge()), purgeIntervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
