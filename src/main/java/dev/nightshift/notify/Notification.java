package dev.nightshift.notify;

import dev.nightshift.config.NotifyTarget;
import dev.nightshift.json.Json;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One notification as the outbox holds it, and its bodies: nightshift's JSON, or a Slack incoming
 * webhook's message. The error is capped (it may quote input). Immutable.
 *
 * @param event dead, late, recovered (or test, from {@code notify test})
 * @param url   the target, or null for the delivering node's default targets
 */
record Notification(long id, String job, String event, Long runId, Instant slot, Instant periodStart, Instant periodEnd,
                    String error, String url, NotifyTarget.Format format, String idempotencyKey, int attempts) {
    /** Longest error text sent. */
    static final int MAX_ERROR = 1000;

    /** The body for {@code format}; {@code dashboard} is the dashboard's address, without a trailing slash. */
    String body(NotifyTarget.Format f, String dashboard) {
        String link = runId != null ? dashboard + "/runs/" + runId : dashboard + "/";
        String err = error == null ? null : error.length() <= MAX_ERROR ? error : error.substring(0, MAX_ERROR) + "…";
        if (f == NotifyTarget.Format.SLACK) {
            return Json.write(Map.of("text", headline() + (err == null ? "" : "\n```" + err.replace("```", "'''") + "```")
                    + "\n<" + link + "|" + (runId != null ? "run " + runId : "dashboard") + ">"));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", event);
        m.put("job", job);
        m.put("run", runId);
        m.put("state", switch (event) {
            case "dead" -> "dead";
            case "recovered" -> "succeeded";
            case "late" -> "late";
            default -> event;
        });
        m.put("slot", slot == null ? null : slot.toString());
        m.put("period_start", periodStart == null ? null : periodStart.toString());
        m.put("period_end", periodEnd == null ? null : periodEnd.toString());
        m.put("error", err);
        m.put("summary", headline());
        m.put("link", link);
        m.put("idempotency_key", idempotencyKey);
        return Json.write(m);
    }

    /** One line a person reads first. */
    String headline() {
        return switch (event) {
            case "dead" -> "nightshift: run " + runId + " of job " + job + " is dead";
            case "late" -> "nightshift: job " + job + " is late: slot " + slot + " has passed its deadline without a success";
            case "recovered" -> "nightshift: job " + job + " recovered: run " + runId + " succeeded";
            default -> "nightshift: test notification for job " + job;
        };
    }
}
