package dev.nightshift.queue;

import java.time.Instant;
import java.util.UUID;

/**
 * The text of every run's dedupe key, made here and nowhere else: a run made twice with one key
 * exists once ({@code run_key}). The scheduler, a backfill of the same slot, {@code after:} and
 * fan-in dependents, operators' idempotency keys. Stateless.
 */
public final class DedupeKey {
    /** The namespace of keys made for one request (never equal to a caller's key). */
    static final String REQUEST = "request:";

    private DedupeKey() {
    }

    /** The run of {@code job} for a schedule's {@code slot}: the scheduler's, and a backfill's of that slot. */
    public static String schedule(String job, Instant slot) {
        return "schedule:" + job + ":" + slot.toEpochMilli();
    }

    /** The {@code after:} dependent {@code job} of run {@code parentRunId}. */
    public static String after(long parentRunId, String job) {
        return "after:" + parentRunId + ":" + job;
    }

    /** The fan-in ({@code after_all:}) run of {@code job} for the period ending at {@code periodEnd}. */
    public static String fanIn(String job, Instant periodEnd) {
        return "all:" + job + ":" + periodEnd.toEpochMilli();
    }

    /** An operator's run of {@code job} with the caller's idempotency key. */
    public static String manual(String job, String idempotencyKey) {
        return "manual:" + job + ":" + idempotencyKey;
    }

    /** A key made for one request without a key of its own, so that a retried request finds its run. */
    public static String request(String job) {
        return REQUEST + job + ":" + UUID.randomUUID();
    }
}
