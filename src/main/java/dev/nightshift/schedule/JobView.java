package dev.nightshift.schedule;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One job as operators see it (HTTP API, dashboard): its definition's main settings and where its
 * runs stand.
 *
 * @param schedule   cron, timezone and misfire, or null for a job that only runs when triggered
 * @param removed    gone from the catalog (listed only on request; its runs are kept)
 * @param nextFireAt the next fire of the trigger of the job's schedule (it fires on while the job is paused, adding no run for it)
 * @param lastRun    the newest run of the job, whatever its state, or null
 * @param deadline   when each slot must have succeeded ({@code 2h}, {@code 06:00}), or null
 * @param lateSlots  slots past their deadline without a succeeded run, oldest first (empty without a deadline)
 * @param afterAll   the upstream jobs of a fan-in ({@code after: {all: [...]}}), or empty
 * @param waitingFor for a fan-in job, the latest period some upstream succeeded for and the upstreams it still waits for; or null
 */
public record JobView(
        String name,
        String type,
        String description,
        Map<String, String> schedule,
        boolean paused,
        boolean removed,
        int concurrency,
        int maxAttempts,
        List<String> after,
        Instant nextFireAt,
        LastRun lastRun,
        Instant lastSuccessAt,
        int running,
        int waiting,
        String deadline,
        List<Instant> lateSlots,
        List<String> afterAll,
        FanIn.Waiting waitingFor) {

    /** The newest run of a job, in brief. */
    public record LastRun(long id, String state, Instant finishedAt, String lastError) {
    }
}
