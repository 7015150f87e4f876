package dev.nightshift.jobs;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a SQL script into statements at top-level semicolons, aware of quotes, quoted
 * identifiers, dollar quoting and comments, so that each statement can run on its own
 * (VACUUM refuses a multi-statement query) and errors can name the statement's line.
 */
public final class SqlScript {

    /** One statement and the line of the script it starts on. */
    public record Statement(String sql, int line) {
    }

    private SqlScript() {
    }

    public static List<Statement> split(String script) {
        List<Statement> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int line = 1;
        int startLine = -1;
        int i = 0;
        int n = script.length();
        while (i < n) {
            char ch = script.charAt(i);
            int end;
            if (ch == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                end = script.indexOf('\n', i);
                end = end < 0 ? n : end;
            } else if (ch == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                end = blockCommentEnd(script, i);
            } else if (ch == '\'') {
                boolean escapes = i > 0 && (script.charAt(i - 1) == 'E' || script.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(script.charAt(i - 2)));
                end = quoteEnd(script, i, '\'', escapes);
            } else if (ch == '"') {
                end = quoteEnd(script, i, '"', false);
            } else if (ch == '$' && dollarTag(script, i) != null) {
                String tag = dollarTag(script, i);
                int close = script.indexOf(tag, i + tag.length());
                end = close < 0 ? n : close + tag.length();
            } else if (ch == ';') {
                add(out, cur, startLine);
                cur.setLength(0);
                startLine = -1;
                i++;
                continue;
            } else {
                end = i + 1;
            }
            String piece = script.substring(i, end);
            boolean comment = piece.startsWith("--") || piece.startsWith("/*");
            if (startLine < 0 && !comment && !piece.isBlank()) {
                startLine = line;
            }
            if (startLine >= 0) {
                cur.append(piece);
            }
            line += piece.chars().filter(c -> c == '\n').count();
            i = end;
        }
        add(out, cur, startLine);
        return out;
    }

    private static void add(List<Statement> out, StringBuilder cur, int startLine) {
        String sql = cur.toString().strip();
        if (!sql.isEmpty()) {
            out.add(new Statement(sql, startLine));
        }
    }

    private static int blockCommentEnd(String s, int i) {
        int depth = 0;
        int n = s.length();
        while (i < n) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    private static int quoteEnd(String s, int i, char q, boolean backslashEscapes) {
        int n = s.length();
        int j = i + 1;
        while (j < n) {
            char c = s.charAt(j);
            if (backslashEscapes && c == '\\') {
                j += 2;
            } else if (c == q) {
                if (j + 1 < n && s.charAt(j + 1) == q) {
                    j += 2;
                } else {
                    return j + 1;
                }
            } else {
                j++;
            }
        }
        return n;
    }

    /** The dollar-quote tag starting at {@code i} ($$ or $name$), or null if none starts there. */
    private static String dollarTag(String s, int i) {
        if (i > 0 && (Character.isLetterOrDigit(s.charAt(i - 1)) || s.charAt(i - 1) == '_')) {
            return null;
        }
        int j = i + 1;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            j++;
        }
        if (j < s.length() && s.charAt(j) == '$' && (j == i + 1 || !Character.isDigit(s.charAt(i + 1)))) {
            return s.substring(i, j + 1);
        }
        return null;
    }
}
