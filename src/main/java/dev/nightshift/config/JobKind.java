package dev.nightshift.config;

import java.util.Arrays;
import java.util.Optional;

/** The job types a definition may name in {@code type:}. */
public enum JobKind {
    SQL("sql"),
    BATCH_IMPORT("batch-import"),
    REBUILD_SUMMARY("rebuild-summary"),
    REFRESH_MATERIALIZED_VIEW("refresh-materialized-view");

    private final String yamlName;

    JobKind(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }

    public static Optional<JobKind> byYamlName(String name) {
        return Arrays.stream(values()).filter(k -> k.yamlName.equals(name)).findFirst();
    }

    public static String names() {
        return String.join(" | ", Arrays.stream(values()).map(JobKind::yamlName).toList());
    }
}
