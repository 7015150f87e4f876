package dev.nightshift.db;

import dev.nightshift.config.ConfigException;

/**
 * The nightshift schema was made by a pre-release build, whose migrations were squashed into the
 * baseline V1 before the first release: it cannot be upgraded, only recreated. The migration and
 * the node's start refuse it before Flyway touches anything, with exit code 2 and what to do.
 */
public final class PreReleaseSchemaException extends ConfigException {
    public PreReleaseSchemaException(String problem) {
        super(problem);
    }
}
