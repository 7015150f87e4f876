package dev.nightshift.csv;

import dev.nightshift.config.CsvFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.List;

/**
 * A streaming CSV reader with PostgreSQL's COPY CSV rules (an unquoted field equal to the NULL
 * string is null; a doubled quote inside quotes is one quote) and RFC 4180's stricter quoting (a
 * quote only opens a field; see {@link CsvSyntax}), used where COPY alone cannot help:
 * the header line, the physical line of a record, and the row-by-row pass of {@code on_bad_row:
 * skip}. Works on bytes, so a record with bytes invalid in the encoding is reported, not guessed.
 * Memory holds one record at a time. Not thread-safe.
 */
public final class CsvReader implements AutoCloseable {
    /** One record: the physical line it starts on, its fields (null when undecodable), its raw text. */
    public record Record(long line, List<String> fields, String raw, String problem) {
    }

    private final InputStream in;
    private final CsvFormat format;
    private final CharsetDecoder strict;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int len;
    private long line = 1;

    /** Reads {@code in} from its start; a UTF-8 byte order mark there is skipped. */
    public CsvReader(InputStream in, CsvFormat format) throws IOException {
        this.in = ByteOrderMark.skipUtf8(in, format);
        this.format = format;
        this.strict = format.charset().newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    private int read() throws IOException {
        if (pos == len) {
            len = in.read(buf, 0, buf.length);
            pos = 0;
            if (len <= 0) {
                len = 0;
                return -1;
            }
        }
        return buf[pos++] & 0xff;
    }

    /** The next record, or null at the end of the input. */
    public Record next() throws IOException {
        long start = line;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        List<byte[]> fields = new ArrayList<>();
        List<Boolean> quotedFlags = new ArrayList<>();
        boolean quoted = false;
        boolean inQuotes = false;
        boolean closed = false;
        long quoteLine = 0;
        String problem = null;
        int c = read();
        if (c < 0) {
            return null;
        }
        while (true) {
            if (c < 0 || !inQuotes && c == '\n') {
                break;
            }
            if (c == '\n') {
                line++;
            }
            raw.write(c);
            if (inQuotes) {
                if (c == format.quote()) {
                    int d = peek();
                    if (d == format.quote()) {
                        raw.write(read());
                        field.write(d);
                    } else {
                        inQuotes = false;
                        closed = true;
                    }
                } else {
                    field.write(c);
                }
            } else if (c == format.delimiter()) {
                fields.add(field.toByteArray());
                quotedFlags.add(quoted);
                field.reset();
                quoted = false;
                closed = false;
            } else if (closed) {
                // RFC 4180, as CsvSyntax checks for COPY: nothing but a delimiter or the line's end after a closing quote.
                if (c != '\r' && problem == null) {
                    problem = "field " + (fields.size() + 1) + ": " + CsvSyntax.AFTER_CLOSE;
                }
            } else if (c == format.quote() && field.size() == 0 && !quoted) {
                inQuotes = true;
                quoted = true;
                quoteLine = line;
            } else if (c == format.quote()) {
                // Kept as data so that the record still ends at this line's end; the record is refused.
                if (problem == null) {
                    problem = "field " + (fields.size() + 1) + ": " + CsvSyntax.STRAY_QUOTE;
                }
                field.write(c);
            } else if (c != '\r' || peek() != '\n') {
                field.write(c);
            }
            c = read();
        }
        line++;
        if (inQuotes) {
            problem = "field " + (fields.size() + 1) + ": " + CsvSyntax.UNTERMINATED + " (the quote opens on line " + quoteLine + ")";
        }
        fields.add(field.toByteArray());
        quotedFlags.add(quoted);
        return record(start, raw.toByteArray(), fields, quotedFlags, problem);
    }

    private int peek() throws IOException {
        int c = read();
        if (c >= 0) {
            pos--;
        }
        return c;
    }

    private Record record(long start, byte[] rawBytes, List<byte[]> fields, List<Boolean> quoted, String problem) {
        String raw = new String(rawBytes, format.charset());
        if (raw.endsWith("\r")) {
            raw = raw.substring(0, raw.length() - 1);
        }
        if (problem != null) {
            return new Record(start, null, raw, problem);
        }
        List<String> out = new ArrayList<>(fields.size());
        for (int i = 0; i < fields.size(); i++) {
            String v;
            try {
                v = strict.decode(ByteBuffer.wrap(fields.get(i))).toString();
            } catch (CharacterCodingException e) {
                return new Record(start, null, raw, "field " + (i + 1) + " is not valid " + format.charset().name());
            }
            out.add(!quoted.get(i) && v.equals(format.nullString()) ? null : v);
        }
        return new Record(start, out, raw, null);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
