package dev.nightshift.cli;

/** A bad argument found after parsing (unknown job, malformed --param): exit code 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
