package dev.nightshift.config;

/** The type-specific {@code params:} of a job definition, validated when the catalog is read. */
public interface JobParams {
}
