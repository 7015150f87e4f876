package dev.nightshift.jobs;

/**
 * A failure that another attempt would repeat (a malformed file, a missing column): the run goes
 * straight to {@code dead}, with this message as its error.
 */
public class JobFailedException extends Exception {
    public JobFailedException(String message) {
        super(message);
    }

    public JobFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
