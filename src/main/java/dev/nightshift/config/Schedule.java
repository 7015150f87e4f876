package dev.nightshift.config;

import java.time.ZoneId;
import java.util.Objects;

/**
 * When a job fires: a Quartz cron expression (with seconds) in a time zone, and what to do after
 * downtime; optionally the days a business calendar excludes, and of the slots left, only the
 * first or last of each month.
 *
 * @param calendar null for none
 * @param pick     null for every slot the cron and calendar leave
 */
public record Schedule(String cron, ZoneId timezone, Misfire misfire, BusinessCalendar calendar, Pick pick) {

    /** {@code fire-once}: one catch-up run after missed slots; {@code skip}: none. */
    public enum Misfire {
        FIRE_ONCE("fire-once"), SKIP("skip");

        private final String yamlName;

        Misfire(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }
    }

    /** Of the slots the cron and calendar leave, only the first or the last of each month (in the schedule's zone). */
    public enum Pick {
        FIRST_IN_MONTH("first-in-month"), LAST_IN_MONTH("last-in-month");

        private final String yamlName;

        Pick(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }

        public static Pick byYamlName(String s) {
            for (Pick p : values()) {
                if (p.yamlName.equals(s)) {
                    return p;
                }
            }
            return null;
        }
    }

    public Schedule {
        Objects.requireNonNull(cron, "cron");
        Objects.requireNonNull(timezone, "timezone");
        Objects.requireNonNull(misfire, "misfire");
    }

    public Schedule(String cron, ZoneId timezone, Misfire misfire) {
        this(cron, timezone, misfire, null, null);
    }
}
