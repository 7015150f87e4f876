package dev.nightshift.audit;

import java.time.Instant;
import java.util.Map;

/** One row of the audit table as operators see it: the stable shape of {@code audit --json} and {@code /api/audit}. */
public record AuditEntry(long id, Instant at, String actor, String role, String action, String job, Long runId,
                         Long backfillId, Map<String, Object> detail) {
}
