package dev.nightshift.config;

import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.UnsupportedCharsetException;

/**
 * The {@code format:} of a batch-import file: CSV with this delimiter, quote and NULL string, in
 * this encoding, with or without a header line. Validated so that each value can be written as a
 * COPY option literal without any escaping surprise. Immutable.
 *
 * @param encoding a Java charset name; PostgreSQL's name for it is {@link #postgresEncoding()}
 */
public record CsvFormat(char delimiter, char quote, String nullString, boolean header, String encoding) {
    public static final CsvFormat DEFAULT = new CsvFormat(',', '"', "", true, "UTF-8");

    public CsvFormat {
        if (delimiter == quote || bad(delimiter) || bad(quote)) {
            throw new IllegalArgumentException("delimiter and quote must be two different printable ASCII characters (or a tab)");
        }
        if (nullString.indexOf('\n') >= 0 || nullString.indexOf('\r') >= 0 || nullString.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("null must not contain a line break or a backslash");
        }
        Charset.forName(encoding);
    }

    /** COPY takes one-byte delimiters and quotes only; line breaks and backslashes would confuse the line count and the COPY options. */
    private static boolean bad(char c) {
        return c > 127 || c == '\n' || c == '\r' || c == '\\' || Character.isISOControl(c) && c != '\t';
    }

    public Charset charset() {
        return Charset.forName(encoding);
    }

    /** The server-side encoding name for COPY's ENCODING option (PostgreSQL spells a few differently). */
    public String postgresEncoding() {
        String n = charset().name().toUpperCase(java.util.Locale.ROOT);
        return switch (n) {
            case "UTF-8" -> "UTF8";
            case "ISO-8859-1" -> "LATIN1";
            case "ISO-8859-15" -> "LATIN9";
            case "WINDOWS-1252" -> "WIN1252";
            case "US-ASCII" -> "SQL_ASCII";
            default -> n.replace("-", "");
        };
    }

    static CsvFormat read(ParamsReader r, String key) {
        java.util.Map<String, String> m = r.stringMap(key);
        for (String k : m.keySet()) {
            if (!java.util.Set.of("delimiter", "quote", "null", "header", "encoding").contains(k)) {
                r.problem(key, "unknown option '" + k + "' (known: delimiter, quote, null, header, encoding)");
            }
        }
        String delimiter = m.getOrDefault("delimiter", ",");
        String quote = m.getOrDefault("quote", "\"");
        String header = m.getOrDefault("header", "true");
        String encoding = m.getOrDefault("encoding", "UTF-8");
        if (delimiter.length() != 1 || quote.length() != 1) {
            r.problem(key, "delimiter and quote must be single characters");
            return null;
        }
        if (!header.equals("true") && !header.equals("false")) {
            r.problem(key, "header must be true or false, got '" + header + "'");
            return null;
        }
        try {
            return new CsvFormat(delimiter.charAt(0), quote.charAt(0), m.getOrDefault("null", ""),
                    header.equals("true"), encoding);
        } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
            r.problem(key, "unknown encoding '" + encoding + "' (examples: UTF-8, ISO-8859-1, windows-1252)");
        } catch (IllegalArgumentException e) {
            r.problem(key, e.getMessage());
        }
        return null;
    }
}
