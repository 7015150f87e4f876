package dev.nightshift.jobs;

/**
 * A failure that another attempt would repeat (a malformed file, a missing column): the run goes
 * straight to {@code dead}, with this message as its error. The message is cut at a few thousand
 * characters, since it may quote input and is logged and stored.
 */
public class JobFailedException extends Exception {
    public JobFailedException(String message) {
        super(Excerpt.message(message));
    }

    public JobFailedException(String message, Throwable cause) {
        super(Excerpt.message(message), cause);
    }
}
