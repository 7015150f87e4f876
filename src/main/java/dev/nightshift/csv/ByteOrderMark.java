package dev.nightshift.csv;

import dev.nightshift.config.CsvFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Byte order marks at the start of a file. Spreadsheet programs start UTF-8 files with EF BB BF,
 * which no one sees and which would otherwise become part of the first header name (or of the
 * first value, without a header): it is dropped before the bytes reach the CSV reader or COPY. A
 * UTF-16 mark means the file is not UTF-8 at all, and COPY cannot read UTF-16: the import refuses
 * such a file before anything is read. Stateless.
 */
public final class ByteOrderMark {
    private static final byte[] UTF8 = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private ByteOrderMark() {
    }

    /**
     * The UTF-16 byte order mark a file starts with, described ("FF FE, UTF-16 little-endian"),
     * when the format reads it as UTF-8 or any one-byte encoding; null otherwise.
     */
    public static String utf16Mark(Path file, CsvFormat format) throws IOException {
        byte[] head = new byte[2];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 2);
        }
        if (n < 2 || format.charset().name().startsWith("UTF-16")) {
            return null;
        }
        return head[0] == (byte) 0xFF && head[1] == (byte) 0xFE ? "FF FE, UTF-16 little-endian"
                : head[0] == (byte) 0xFE && head[1] == (byte) 0xFF ? "FE FF, UTF-16 big-endian" : null;
    }

    /** {@code in} without a leading UTF-8 byte order mark when the format is UTF-8; otherwise {@code in} unchanged. */
    public static InputStream skipUtf8(InputStream in, CsvFormat format) throws IOException {
        if (!format.charset().equals(StandardCharsets.UTF_8)) {
            return in;
        }
        PushbackInputStream b = new PushbackInputStream(in, UTF8.length);
        byte[] head = b.readNBytes(UTF8.length);
        if (!Arrays.equals(head, UTF8)) {
            b.unread(head);
        }
        return b;
    }
}
