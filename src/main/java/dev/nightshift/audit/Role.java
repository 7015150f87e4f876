package dev.nightshift.audit;

import java.util.Locale;

/**
 * What a token (or a proxy's user) may do: {@code read} reads; {@code operator} also triggers,
 * cancels, retries, pauses, resumes and backfills; {@code admin} also overrides guards and changes
 * settings. Ordered from least to most.
 */
public enum Role {
    READ, OPERATOR, ADMIN;

    /** The name in a tokens file and in the audit table: {@code read}, {@code operator}, {@code admin}. */
    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code s}, or null when there is none by that name. */
    public static Role parse(String s) {
        for (Role r : values()) {
            if (r.dbName().equals(s)) {
                return r;
            }
        }
        return null;
    }

    public boolean atLeast(Role other) {
        return compareTo(other) >= 0;
    }
}
