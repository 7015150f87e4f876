package dev.nightshift.jobs;

import java.sql.SQLException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Turns PostgreSQL's COPY errors into messages about the file: COPY already knows the line, the
 * column and the value (its error context reads {@code COPY t, line 3, column c: "abc"}); this
 * puts them first and names the CSV header. Stateless.
 */
final class CopyErrors {
    static final String UNIQUE = "23505";
    static final String NOT_NULL = "23502";
    static final String CHECK = "23514";
    private static final Pattern LINE = Pattern.compile("line (\\d+)");
    private static final Pattern COLUMN = Pattern.compile("line \\d+, column ([a-z_][a-z0-9_$]*): (.*)$", Pattern.DOTALL);

    private CopyErrors() {
    }

    /** Bad data rather than a database problem: data exceptions (class 22) and integrity violations (class 23). */
    static boolean badInput(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("22") || s.startsWith("23"));
    }

    static String describe(String fileName, SQLException e, FileImport.Header header) {
        ServerErrorMessage m = e instanceof PSQLException pe ? pe.getServerErrorMessage() : null;
        if (m == null) {
            return fileName + ": " + Excerpt.quotedCapped(e.getMessage());
        }
        String where = m.getWhere() == null ? "" : m.getWhere().lines().findFirst().orElse("");
        StringBuilder b = new StringBuilder(fileName);
        Matcher line = LINE.matcher(where);
        if (line.find()) {
            b.append(": line ").append(line.group(1));
        }
        Matcher col = COLUMN.matcher(where);
        if (col.find()) {
            b.append(", column ").append(header.describe(col.group(1)));
            if (!col.group(2).equals("null input")) {
                b.append(", value ").append(col.group(2));
            }
        }
        // The server's message may quote a whole value (invalid input syntax for type integer: "..."); its context does not.
        b.append(": ").append(Excerpt.quotedCapped(m.getMessage()));
        if (m.getDetail() != null) {
            b.append(" (").append(Excerpt.quotedCapped(m.getDetail())).append(')');
        }
        return b.toString();
    }
}
