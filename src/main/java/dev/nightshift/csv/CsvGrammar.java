package dev.nightshift.csv;

import dev.nightshift.config.CsvFormat;

/**
 * The CSV grammar, stepped one byte at a time: PostgreSQL's COPY CSV rules with RFC 4180's
 * stricter quoting (a quote may only open a field, a closing quote may only be followed by a
 * delimiter or the end of the line, a doubled quote inside quotes is one quote). {@link CsvSyntax}
 * (the check on the bytes COPY reads) and {@link CsvReader} (records for the header and for
 * {@code on_bad_row: skip}) both step it, so they cannot disagree on what a file means. Works on
 * bytes: the quote and the delimiter are ASCII, and no byte of a multi-byte UTF-8 or Latin character
 * equals one. Counts physical lines (1 = the file's first) and fields (1 = a line's first). Not thread-safe.
 */
final class CsvGrammar {
    /** What one byte is. */
    enum Token {
        /** a byte of the field's value */
        DATA,
        /** quoting: no byte of the value (an opening or closing quote, a carriage return after a closing quote) */
        QUOTING,
        /** the field ends, another follows */
        DELIMITER,
        /** the record ends (a line break outside quotes) */
        END_OF_LINE,
        /** a quote in an unquoted field: the field stays unquoted and the quote, if kept, is data */
        STRAY_QUOTE,
        /** a byte after a closing quote other than a delimiter or the line's end; the field stays closed */
        AFTER_CLOSE
    }

    private enum State { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, CLOSED }

    private final int quote;
    private final int delimiter;
    private State state = State.FIELD_START;
    private boolean quotedField;
    private long line = 1;
    private int field = 1;
    private long quoteLine;
    private int quoteField;

    CsvGrammar(CsvFormat format) {
        this.quote = format.quote();
        this.delimiter = format.delimiter();
    }

    Token step(int b) {
        switch (state) {
            case FIELD_START, UNQUOTED -> {
                if (b != quote) {
                    return separator(b, State.UNQUOTED);
                }
                if (state == State.UNQUOTED) {
                    return Token.STRAY_QUOTE;
                }
                state = State.QUOTED;
                quotedField = true;
                quoteLine = line;
                quoteField = field;
                return Token.QUOTING;
            }
            case QUOTED -> {
                if (b == quote) {
                    state = State.QUOTE_IN_QUOTED;
                    return Token.QUOTING;
                }
                if (b == '\n') {
                    line++;
                }
                return Token.DATA;
            }
            case QUOTE_IN_QUOTED -> {
                if (b == quote) {
                    state = State.QUOTED;   // a doubled quote: one quote inside the field
                    return Token.DATA;
                }
                return closed(b);
            }
            case CLOSED -> {
                return closed(b);
            }
            default -> throw new IllegalStateException(state.name());
        }
    }

    private Token closed(int b) {
        if (b == delimiter || b == '\n') {
            return separator(b, null);
        }
        state = State.CLOSED;
        return b == '\r' ? Token.QUOTING : Token.AFTER_CLOSE;
    }

    /** A delimiter or line break starts a new field; any other byte is data and moves to {@code other}. */
    private Token separator(int b, State other) {
        if (b == delimiter) {
            field++;
            state = State.FIELD_START;
            quotedField = false;
            return Token.DELIMITER;
        }
        if (b == '\n') {
            line++;
            field = 1;
            state = State.FIELD_START;
            quotedField = false;
            return Token.END_OF_LINE;
        }
        state = other;
        return Token.DATA;
    }

    /** Whether the input ended now would leave a quoted field open. */
    boolean inQuotes() {
        return state == State.QUOTED;
    }

    /** Whether the current field opened with a quote (so it is never the NULL string). */
    boolean quotedField() {
        return quotedField;
    }

    long line() {
        return line;
    }

    int field() {
        return field;
    }

    /** The line where the last quoted field began. */
    long quoteLine() {
        return quoteLine;
    }

    /** The field number of the last quoted field. */
    int quoteField() {
        return quoteField;
    }
}
