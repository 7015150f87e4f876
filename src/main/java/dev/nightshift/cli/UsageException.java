package dev.nightshift.cli;

/** A bad argument found after parsing (unknown job, malformed --param): exit code 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
