package dev.nightshift.config;

import java.time.ZoneId;
import java.util.Objects;

/** When a job fires: a Quartz cron expression (with seconds) in a time zone, and what to do after downtime. */
public record Schedule(String cron, ZoneId timezone, Misfire misfire) {

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

    public Schedule {
        Objects.requireNonNull(cron, "cron");
        Objects.requireNonNull(timezone, "timezone");
        Objects.requireNonNull(misfire, "misfire");
    }
}
