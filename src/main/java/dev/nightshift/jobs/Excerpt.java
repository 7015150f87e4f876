package dev.nightshift.jobs;

import java.nio.charset.StandardCharsets;

/**
 * How text taken from an input file is shown in an error, a log line, a run's last error and
 * {@code import_reject}: invisible characters escaped, so that two names that look alike can be
 * told apart, and at most {@link #MAX_CHARS} characters of it, so that a 20 MB line cannot become a
 * 20 MB log line. Stateless.
 */
final class Excerpt {
    /** Characters of input text an error quotes; the rest is replaced by "…(N bytes)". */
    static final int MAX_CHARS = 200;
    /** Longest error message a job type raises (a message quotes several excerpts at most). */
    static final int MAX_MESSAGE = 4000;

    private Excerpt() {
    }

    /** At most {@link #MAX_CHARS} characters of {@code s}, then "…(N bytes)" with the whole text's UTF-8 length. */
    static String capped(String s) {
        return capped(s, MAX_CHARS);
    }

    /** At most {@code max} characters of {@code s}, then "…(N bytes)". */
    static String capped(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        int end = max;
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end) + "…(" + s.getBytes(StandardCharsets.UTF_8).length + " bytes)";
    }

    private static final java.util.regex.Pattern LONG_QUOTED = java.util.regex.Pattern.compile("\"([^\"]{" + MAX_CHARS + ",})\"");

    /**
     * A server message with every double-quoted text longer than {@link #MAX_CHARS} {@linkplain #capped
     * capped}: PostgreSQL quotes a bad value whole ({@code value "…" is out of range for type integer}).
     */
    static String quotedCapped(String message) {
        if (message == null || message.length() <= MAX_CHARS) {
            return message;
        }
        java.util.regex.Matcher m = LONG_QUOTED.matcher(message);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, java.util.regex.Matcher.quoteReplacement("\"" + capped(m.group(1)) + "\""));
        }
        m.appendTail(b);
        return capped(b.toString(), 5 * MAX_CHARS);
    }

    /** A message cut to {@link #MAX_MESSAGE} characters, for a message built from several parts. */
    static String message(String s) {
        if (s == null || s.length() <= MAX_MESSAGE) {
            return s;
        }
        return s.substring(0, MAX_MESSAGE) + "…(message cut, " + s.length() + " characters)";
    }

    /**
     * {@link #capped} with every character that prints as nothing or as a plain space written as an
     * escape: {@code \t}, {@code \r}, {@code \n}, and {@code \}{@code uXXXX} for controls, the byte order mark,
     * no-break and other unusual spaces, and zero-width characters.
     */
    static String visible(String s) {
        if (s == null) {
            return null;
        }
        String c = capped(s);
        StringBuilder b = new StringBuilder(c.length() + 8);
        for (int i = 0; i < c.length(); i++) {
            char ch = c.charAt(i);
            switch (ch) {
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                default -> {
                    if (invisible(ch)) {
                        b.append(String.format("\\u%04X", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }

    private static boolean invisible(char ch) {
        if (ch == ' ' || ch == '…') {
            return false;
        }
        int type = Character.getType(ch);
        return Character.isISOControl(ch) || Character.isWhitespace(ch) || Character.isSpaceChar(ch)
                || type == Character.FORMAT || type == Character.UNASSIGNED || type == Character.PRIVATE_USE;
    }
}
