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
import java.util.Arrays;
import java.util.List;

/**
 * A streaming CSV reader with PostgreSQL's COPY CSV rules (an unquoted field equal to the NULL
 * string is null; a doubled quote inside quotes is one quote) and RFC 4180's stricter quoting (a
 * quote only opens a field), the grammar of {@link CsvGrammar} that {@link CsvSyntax} checks, used where COPY alone cannot help:
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
    private final CsvGrammar grammar;
    private final CharsetDecoder strict;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int len;

    /** Reads {@code in} from its start; a UTF-8 byte order mark there is skipped. */
    public CsvReader(InputStream in, CsvFormat format) throws IOException {
        this.in = ByteOrderMark.skipUtf8(in, format);
        this.format = format;
        this.grammar = new CsvGrammar(format);
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
        int c = read();
        if (c < 0) {
            return null;
        }
        long start = grammar.line();
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        List<byte[]> fields = new ArrayList<>();
        List<Boolean> quoted = new ArrayList<>();
        String problem = null;
        for (; c >= 0; c = read()) {
            int at = grammar.field();
            boolean wasQuoted = grammar.quotedField();
            CsvGrammar.Token t = grammar.step(c);
            if (t == CsvGrammar.Token.DELIMITER || t == CsvGrammar.Token.END_OF_LINE) {
                byte[] value = field.toByteArray();
                // COPY reads CR LF as a line's end: the CR before the LF is not part of an unquoted last field
                boolean crlf = t == CsvGrammar.Token.END_OF_LINE && !wasQuoted && value.length > 0 && value[value.length - 1] == '\r';
                fields.add(crlf ? Arrays.copyOf(value, value.length - 1) : value);
                quoted.add(wasQuoted);
                field.reset();
                if (t == CsvGrammar.Token.END_OF_LINE) {
                    return record(start, raw.toByteArray(), fields, quoted, problem);
                }
            } else if (t == CsvGrammar.Token.DATA) {
                field.write(c);
            } else if (t == CsvGrammar.Token.STRAY_QUOTE) {
                // Kept as data so that the record still ends at this line's end; the record is refused.
                field.write(c);
                problem = problem != null ? problem : "field " + at + ": " + CsvSyntax.STRAY_QUOTE;
            } else if (t == CsvGrammar.Token.AFTER_CLOSE) {
                problem = problem != null ? problem : "field " + at + ": " + CsvSyntax.AFTER_CLOSE;
            }
            raw.write(c);
        }
        if (grammar.inQuotes()) {
            problem = "field " + grammar.field() + ": " + CsvSyntax.UNTERMINATED + " (the quote opens on line " + grammar.quoteLine() + ")";
        }
        fields.add(field.toByteArray());
        quoted.add(grammar.quotedField());
        return record(start, raw.toByteArray(), fields, quoted, problem);
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
