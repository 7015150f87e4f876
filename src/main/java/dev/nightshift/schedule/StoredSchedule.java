package dev.nightshift.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.config.BusinessCalendar;
import dev.nightshift.config.Schedule;
import dev.nightshift.json.Json;
import java.time.LocalDate;
import java.time.MonthDay;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/** A job's schedule as the sync stored it in {@code nightshift.job.definition}, read back as {@link Slots}. Stateless. */
final class StoredSchedule {
    private StoredSchedule() {
    }

    /** The schedule as the job row stores it: cron, timezone, misfire, and calendar (with its dates) and pick when set. */
    static Map<String, Object> json(Schedule s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cron", s.cron());
        m.put("timezone", s.timezone().getId());
        m.put("misfire", s.misfire().yamlName());
        if (s.calendar() != null) {
            BusinessCalendar c = s.calendar();
            m.put("calendar", Map.of("name", c.name(), "timezone", c.zone().getId(),
                    "dates", c.dates().stream().map(Object::toString).toList(), "yearly", List.copyOf(c.yearlyText())));
        }
        if (s.pick() != null) {
            m.put("pick", s.pick().yamlName());
        }
        return m;
    }

    private static BusinessCalendar calendar(JsonNode c) {
        if (!c.isObject()) {
            return null;
        }
        SortedSet<LocalDate> dates = new TreeSet<>();
        c.path("dates").forEach(d -> dates.add(LocalDate.parse(d.asText())));
        SortedSet<MonthDay> yearly = new TreeSet<>();
        c.path("yearly").forEach(d -> yearly.add(MonthDay.parse("--" + d.asText())));
        return new BusinessCalendar(c.path("name").asText(), ZoneId.of(c.path("timezone").asText("UTC")), dates, yearly);
    }

    /** The slots of the stored definition's schedule; null when it has none or it does not parse. */
    static Slots slots(String definitionJson) {
        try {
            JsonNode s = Json.MAPPER.readTree(definitionJson == null ? "{}" : definitionJson).path("schedule");
            if (!s.isObject() || !s.hasNonNull("cron")) {
                return null;
            }
            String zone = s.path("timezone").asText("UTC");
            return Slots.of(s.get("cron").asText(), ZoneId.of("Z".equals(zone) ? "UTC" : zone), calendar(s.path("calendar")),
                    s.hasNonNull("pick") ? Schedule.Pick.byYamlName(s.get("pick").asText()) : null);
        } catch (JsonProcessingException | RuntimeException e) {
            // written by the sync of another version: no period rather than a failed fire
            return null;
        }
    }
}
