package dev.nightshift.runlog;

import java.util.Locale;
import java.util.Set;

/**
 * The command tag PostgreSQL reports for a statement (INSERT, CREATE TABLE, REFRESH MATERIALIZED
 * VIEW...), read from the statement's leading words: pgjdbc does not expose the server's tag.
 * Stateless.
 */
public final class StatementTag {
    /** Words that start a tag of several words, and the modifiers PostgreSQL leaves out of the tag. */
    private static final Set<String> MULTI = Set.of("CREATE", "DROP", "ALTER", "REFRESH");
    private static final Set<String> MODIFIERS = Set.of("OR", "REPLACE", "UNIQUE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL",
            "LOCAL", "IF", "NOT", "EXISTS", "RECURSIVE", "CONSTRAINT", "TRUSTED", "PROCEDURAL");
    private static final Set<String> TWO_WORD_OBJECTS = Set.of("MATERIALIZED", "FOREIGN", "EVENT", "TEXT", "ACCESS", "DEFAULT", "USER");

    private StatementTag() {
    }

    public static String of(String sql) {
        String[] words = strip(sql).split("[\\s(;]+", 8);
        if (words.length == 0 || words[0].isEmpty()) {
            return "(empty)";
        }
        String first = words[0].toUpperCase(Locale.ROOT);
        if (!MULTI.contains(first)) {
            return first;
        }
        StringBuilder tag = new StringBuilder(first);
        for (int i = 1; i < words.length; i++) {
            String w = words[i].toUpperCase(Locale.ROOT);
            if (MODIFIERS.contains(w)) {
                continue;
            }
            tag.append(' ').append(w);
            if (!TWO_WORD_OBJECTS.contains(w)) {
                break;
            }
        }
        return tag.toString();
    }

    /** Drops leading comments, blanks and opening parentheses. */
    private static String strip(String sql) {
        String s = sql.strip();
        while (true) {
            if (s.startsWith("--")) {
                int nl = s.indexOf('\n');
                s = nl < 0 ? "" : s.substring(nl + 1).strip();
            } else if (s.startsWith("/*")) {
                int end = s.indexOf("*/");
                s = end < 0 ? "" : s.substring(end + 2).strip();
            } else if (s.startsWith("(")) {
                s = s.substring(1).strip();
            } else {
                return s;
            }
        }
    }
}
