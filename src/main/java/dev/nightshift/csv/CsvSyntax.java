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
 * reports the end of the file). The grammar is {@link CsvGrammar}'s, shared with {@link CsvReader}.
 * Not thread-safe.
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

    private final CsvGrammar grammar;

    public CsvSyntax(InputStream in, CsvFormat format) {
        super(in);
        this.grammar = new CsvGrammar(format);
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
        if (grammar.inQuotes()) {
            throw new Error(grammar.quoteLine(), grammar.quoteField(), UNTERMINATED);
        }
    }

    private void step(int b) throws Error {
        int field = grammar.field();
        CsvGrammar.Token t = grammar.step(b);
        if (t == CsvGrammar.Token.STRAY_QUOTE || t == CsvGrammar.Token.AFTER_CLOSE) {
            throw new Error(grammar.line(), field, t == CsvGrammar.Token.STRAY_QUOTE ? STRAY_QUOTE : AFTER_CLOSE);
        }
    }
}
