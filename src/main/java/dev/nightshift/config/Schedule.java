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
 * @param overlap  what a slot does while an earlier run of the job is pending; null for the job
 *                 type's default ({@link JobDefinition#overlap()})
 */
public record Schedule(String cron, ZoneId timezone, Misfire misfire, BusinessCalendar calendar, Pick pick, Overlap overlap) {

    /**
     * What a slot does when it fires while an earlier run of the job is still waiting or running:
     * {@code queue}: it runs too, after it (every slot runs); {@code skip}: no run, the slot is recorded
     * as skipped; {@code coalesce}: it joins the job's waiting scheduled run, whose period then reaches
     * to this slot, so one run does the whole span's work once.
     */
    public enum Overlap {
        QUEUE("queue"), SKIP("skip"), COALESCE("coalesce");

        private final String yamlName;

        Overlap(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }

        public static Overlap byYamlName(String s) {
            for (Overlap o : values()) {
                if (o.yamlName.equals(s)) {
                    return o;
                }
            }
            return null;
        }
    }

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
        this(cron, timezone, misfire, null, null, null);
    }

    public Schedule(String cron, ZoneId timezone, Misfire misfire, BusinessCalendar calendar, Pick pick) {
        this(cron, timezone, misfire, calendar, pick, null);
    }
}
