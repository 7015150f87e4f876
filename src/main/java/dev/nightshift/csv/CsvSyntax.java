package dev.nightshift.csv;

import dev.nightshift.config.CsvFormat;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * RFC 4180 quoting, checked on the bytes COPY reads: a quote may only open a field, and a closing
 * quote may only be followed by a delimiter or the end of the line. PostgreSQL's CSV reader
 * accepts a quote in the middle of an unquoted field as the start of a quoted section, so
 * {@code 11,Ele"ven,2000} and, lines later, {@code 12,Twe"lve,2001} become one row holding the line
 * break between them: a file that COPY would load wrongly without an error. This stream refuses it
 * instead, naming the line and field, and names the line where an unterminated quote opened (COPY
 * reports the end of the file). Works on bytes: the quote and the delimiter are ASCII, and no byte
 * of a multi-byte UTF-8 or Latin character equals one. Not thread-safe.
 */
public final class CsvSyntax extends FilterInputStream {
    /** A quoting error: the physical line (1 = the first line of the file) and the field of the record (1-based). */
    public static final class Error extends IOException {
        final long line;

        Error(long line, int field, String problem) {
            super("line " + line + ", field " + field + ": " + problem);
            this.line = line;
        }
    }

    static final String STRAY_QUOTE = "a quote inside an unquoted field (quote the whole field and double its quotes)";
    static final String AFTER_CLOSE = "text after the closing quote (a field is either all quoted or not at all)";
    static final String UNTERMINATED = "a quoted field is not closed before the end of the file";

    private enum State { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, CLOSED }

    private final int quote;
    private final int delimiter;
    private State state = State.FIELD_START;
    private long line = 1;
    private int field = 1;
    private long quoteLine;
    private int quoteField;

    public CsvSyntax(InputStream in, CsvFormat format) {
        super(in);
        this.quote = format.quote();
        this.delimiter = format.delimiter();
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
            end();
        } else {
            step(b);
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n < 0) {
            end();
        }
        for (int i = off; i < off + n; i++) {
            step(buf[i] & 0xff);
        }
        return n;
    }

    private void end() throws Error {
        if (state == State.QUOTED) {
            throw new Error(quoteLine, quoteField, UNTERMINATED);
        }
    }

    private void step(int b) throws Error {
        switch (state) {
            case FIELD_START, UNQUOTED -> {
                if (b == quote) {
                    if (state == State.UNQUOTED) {
                        throw new Error(line, field, STRAY_QUOTE);
                    }
                    state = State.QUOTED;
                    quoteLine = line;
                    quoteField = field;
                } else {
                    separator(b, State.UNQUOTED);
                }
            }
            case QUOTED -> {
                if (b == quote) {
                    state = State.QUOTE_IN_QUOTED;
                } else if (b == '\n') {
                    line++;
                }
            }
            case QUOTE_IN_QUOTED -> {
                if (b == quote) {
                    state = State.QUOTED;   // a doubled quote: one quote inside the field
                } else {
                    closed(b);
                }
            }
            case CLOSED -> closed(b);
            default -> throw new IllegalStateException(state.name());
        }
    }

    private void closed(int b) throws Error {
        if (b == delimiter || b == '\n') {
            separator(b, null);
        } else if (b == '\r') {
            state = State.CLOSED;
        } else {
            throw new Error(line, field, AFTER_CLOSE);
        }
    }

    /** A delimiter or line break starts a new field; any other byte is data and moves to {@code other}. */
    private void separator(int b, State other) {
        if (b == delimiter) {
            field++;
            state = State.FIELD_START;
        } else if (b == '\n') {
            line++;
            field = 1;
            state = State.FIELD_START;
        } else {
            state = other;
        }
    }
}
