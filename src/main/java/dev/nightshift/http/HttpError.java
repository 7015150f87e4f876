package dev.nightshift.http;

import java.util.Map;

/** A request that cannot be served, with the status and the short message the client gets. */
final class HttpError extends RuntimeException {
    final int status;
    final Map<String, String> headers;

    HttpError(int status, String message) {
        this(status, message, Map.of());
    }

    HttpError(int status, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.headers = headers;
    }

    /** {@code text} as a whole number from 0 (a position: "after none"); a 400 naming {@code what} otherwise. */
    static long wholeNumberFrom0(String what, String text) {
        return text.equals("0") ? 0 : wholeNumber(what, text, Long.MAX_VALUE, 0);
    }

    /** {@code text} as a whole number from 1 to {@code max}; a 400 naming {@code what} and the range otherwise. */
    static long wholeNumber(String what, String text, long max) {
        return wholeNumber(what, text, max, 1);
    }

    private static long wholeNumber(String what, String text, long max, long min) {
        try {
            long n = Long.parseLong(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below, with the range
        }
        throw new HttpError(400, what + " must be a whole number from " + min + " to " + max + ", got '" + text + "'");
    }
}
