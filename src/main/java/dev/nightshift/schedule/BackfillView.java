package dev.nightshift.schedule;

import java.time.Instant;

/**
 * One backfill as operators see it (CLI, HTTP, dashboard): what was asked and how far it is.
 *
 * @param slots     slots in the range
 * @param pending   slots not yet enqueued (waiting for room under max_active)
 * @param skipped   slots left alone: their run was waiting, running, or finished as the policy keeps it
 * @param waiting   its runs waiting (due, or retrying after a failed attempt)
 * @param failed    its runs dead (attempts exhausted)
 */
public record BackfillView(
        long id,
        String job,
        Instant from,
        Instant to,
        String reprocess,
        Integer maxActive,
        boolean reverse,
        String state,
        int slots,
        int pending,
        int skipped,
        int waiting,
        int running,
        int succeeded,
        int failed,
        int cancelled,
        Instant createdAt,
        Instant finishedAt) {

    /** Slots settled: succeeded, failed, cancelled or left alone. */
    public int settled() {
        return succeeded + failed + cancelled + skipped;
    }

    /** A text progress bar of the settled slots, e.g. {@code [#######.............] 7/20}. */
    public String bar(int width) {
        int filled = slots == 0 ? width : (int) ((long) settled() * width / slots);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + settled() + "/" + slots;
    }
}
