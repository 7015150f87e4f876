package dev.nightshift.config;

import java.util.regex.Pattern;

/**
 * SQL identifiers taken from job definitions. Only lower-case unquoted-style names are accepted,
 * so that quoting them (which nightshift always does) names the same object PostgreSQL's case
 * folding would, and nothing but an identifier can ever reach the SQL text.
 */
public final class Identifiers {
    private static final Pattern PART = Pattern.compile("[a-z_][a-z0-9_$]{0,62}");

    private Identifiers() {
    }

    /** A plain identifier (column, index): null if valid, else why not. */
    public static String checkName(String s) {
        if (s == null || !PART.matcher(s).matches()) {
            return "'" + s + "' is not a valid identifier (lower-case letters, digits, _ and $, starting with a letter or _, at most 63 characters)";
        }
        return null;
    }

    /** A schema-qualified name {@code schema.table}: null if valid, else why not. */
    public static String checkQualified(String s) {
        if (s == null) {
            return "a schema-qualified name (schema.table) is required";
        }
        String[] parts = s.split("\\.", -1);
        if (parts.length != 2) {
            return "'" + s + "' must be schema-qualified, as schema.table";
        }
        for (String p : parts) {
            String why = checkName(p);
            if (why != null) {
                return why.replace("'" + p + "'", "'" + p + "' in '" + s + "'");
            }
        }
        return null;
    }

    /** Quotes a name already accepted by {@link #checkName} or {@link #checkQualified}. */
    public static String quote(String validated) {
        String[] parts = validated.split("\\.");
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            if (checkName(p) != null) {
                throw new IllegalArgumentException("not a validated identifier: " + validated);
            }
            if (b.length() > 0) {
                b.append('.');
            }
            b.append('"').append(p).append('"');
        }
        return b.toString();
    }
}
