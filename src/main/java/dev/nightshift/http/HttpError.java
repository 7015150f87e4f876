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
}
