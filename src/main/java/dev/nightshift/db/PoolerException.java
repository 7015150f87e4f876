package dev.nightshift.db;

import dev.nightshift.config.ConfigException;

/**
 * The database, as reached through a connection pooler, cannot keep nightshift's guarantees (a
 * pool mode that moves sessions between transactions, sessions without the liveness setting): the
 * node refuses to start, with exit code 2 and what to change.
 */
public final class PoolerException extends ConfigException {
    public PoolerException(String problem) {
        super(problem);
    }
}
