package dev.nightshift.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.queue.Json;
import java.time.ZoneId;

/** A job's schedule as the sync stored it in {@code nightshift.job.definition}, read back as {@link Slots}. Stateless. */
final class StoredSchedule {
    private StoredSchedule() {
    }

    /** The slots of the stored definition's schedule; null when it has none or it does not parse. */
    static Slots slots(String definitionJson) {
        try {
            JsonNode s = Json.MAPPER.readTree(definitionJson == null ? "{}" : definitionJson).path("schedule");
            if (!s.isObject() || !s.hasNonNull("cron")) {
                return null;
            }
            String zone = s.path("timezone").asText("UTC");
            return Slots.of(s.get("cron").asText(), ZoneId.of("Z".equals(zone) ? "UTC" : zone));
        } catch (JsonProcessingException | RuntimeException e) {
            // written by the sync of another version: no period rather than a failed fire
            return null;
        }
    }
}
