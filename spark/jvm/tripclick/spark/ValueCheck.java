package tripclick.spark;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.catalyst.expressions.XXH64;
import org.apache.spark.unsafe.Platform;

/**
 * The JVM's check of a Kafka value in the one shape our producers write (see
 * tripclick_spark/value_check.py, which registers it as a Spark SQL function).
 *
 * <p>It reads the fourteen fields of {@code Event.to_value} in their order, each spelled
 * as the producer spells it, and checks what {@code tripclick.events.check_value} checks:
 * UTF-8, the types and ranges, each time a real one within 1990..2100, the event date
 * that of the event time and the date the record is filed under, and the dedup key.
 * A value it accepts gives the fields {@code check_value} gives; for any other value it
 * returns null, and {@code check_value} decides it in Python. It only ever accepts: every
 * doubt is a null, never a rejection.
 */
public final class ValueCheck implements UDF2<byte[], String, Row> {
    private static final long serialVersionUID = 1L;

    // The validator's bounds of every time: 1990-01-01 .. 2100-01-01 UTC, in Unix ms.
    private static final long MIN_MS = 631_152_000_000L;
    private static final long MAX_MS = 4_102_444_800_000L;
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final byte[] DATE_KEY = "\"event_date\":".getBytes(StandardCharsets.US_ASCII);

    @Override
    public Row call(byte[] value, String recordDate) {
        if (value == null || recordDate == null || !holdsDate(value, recordDate)) {
            return null;
        }
        String text;
        try {
            text = decoder().decode(ByteBuffer.wrap(value)).toString();
        } catch (CharacterCodingException notUtf8) {
            return null;
        }
        try {
            return new Reader(text).read(recordDate);
        } catch (Refused refused) {
            return null;
        }
    }

    /**
     * Whether the value's last {@code "event_date":} key (the producers write it near the
     * end) is followed by {@code "<recordDate>"}: a value of another date, most of a topic
     * that holds several days, is left before it is decoded. It only refuses: inside a JSON
     * string the key's quotes are escaped, so an accepted value has no other such key.
     */
    static boolean holdsDate(byte[] value, String recordDate) {
        for (int i = value.length - DATE_KEY.length; i >= 0; i--) {
            if (value[i] == '"' && startsWith(value, i, DATE_KEY)) {
                int at = i + DATE_KEY.length;
                if (at < value.length && value[at] == ' ') {
                    at++;
                }
                int n = recordDate.length();
                if (at + n + 2 > value.length || value[at] != '"' || value[at + n + 1] != '"') {
                    return false;
                }
                for (int k = 0; k < n; k++) {
                    if (value[at + 1 + k] != recordDate.charAt(k)) {
                        return false;
                    }
                }
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(byte[] value, int at, byte[] prefix) {
        if (at + prefix.length > value.length) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            if (value[at + k] != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    private static CharsetDecoder decoder() {
        // Refuses malformed bytes, overlong forms and encoded UTF-16 surrogates, as Python does.
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** Not in the producers' shape, or not valid: Python decides. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        static final Refused INSTANCE = new Refused();

        private Refused() {
            super(null, null, false, false);
        }
    }

    private static final class Reader {
        private final String s;
        private int at;

        Reader(String s) {
            this.s = s;
        }

        Row read(String recordDate) throws Refused {
            expect('{');
            String created = rawString("DateCreated", false);
            long clickMs = clickMs(created);
            String sessionId = jsonString("SessionId");
            char first = sessionId.isEmpty() ? 0 : s.charAt(valueStart + 1);
            // A visible ASCII first character, so Python's strip() leaves it non-empty.
            if (first < '!' || first > '~' || first == '"' || first == '\\') {
                throw Refused.INSTANCE;
            }
            long documentId = integer("DocumentId");
            String url = jsonString("Url");
            String title = jsonString("Title");
            String doi = jsonString("DOI");
            String areas = rawString("ClinicalAreas", true);
            String keywords = jsonString("Keywords");
            List<Long> documents = integers("Documents");
            String eventTs = rawString("event_ts", false);
            long eventMicros = micros(eventTs);
            String eventDate = rawString("event_date", false);
            String dedupKey = rawString("dedup_key", false);
            String source = jsonString("source");
            String producedAt = rawString("produced_at", false);
            micros(producedAt);
            expect('}');
            if (at != s.length()
                    || !eventDate.equals(eventTs.substring(0, 10))
                    || !eventDate.equals(recordDate)
                    || source.isEmpty()
                    || !dedupKey.equals(dedupKey(sessionId, documentId, clickMs))) {
                throw Refused.INSTANCE;
            }
            return RowFactory.create(
                    true, dedupKey, null, null, sessionId, documentId, url, title, doi,
                    splitAreas(areas), keywords, documents, created, clickMs,
                    Math.floorDiv(eventMicros, 1000L), source, producedAt);
        }

        // ------------------------------------------------------------ the shape

        private int valueStart;

        private void expect(char c) throws Refused {
            if (at >= s.length() || s.charAt(at) != c) {
                throw Refused.INSTANCE;
            }
            at++;
        }

        private void optionalSpace() {
            if (at < s.length() && s.charAt(at) == ' ') {
                at++;
            }
        }

        /** {@code "key": ?} after the separator of the member before it. */
        private void key(String name) throws Refused {
            if (at > 1) {
                expect(',');
                optionalSpace();
            }
            expect('"');
            if (!s.startsWith(name, at)) {
                throw Refused.INSTANCE;
            }
            at += name.length();
            expect('"');
            expect(':');
            optionalSpace();
            valueStart = at;
        }

        /** A string of printable characters without escapes: its text is its value. */
        private String rawString(String name, boolean asciiOnly) throws Refused {
            key(name);
            expect('"');
            int start = at;
            while (at < s.length()) {
                char c = s.charAt(at);
                if (c == '"') {
                    String out = s.substring(start, at);
                    at++;
                    return out;
                }
                if (c == '\\' || c < 0x20 || (asciiOnly && c > '~')) {
                    throw Refused.INSTANCE;
                }
                at++;
            }
            throw Refused.INSTANCE;
        }

        /** A JSON string: escapes every JSON reader decodes alike, no UTF-16 surrogate escape. */
        private String jsonString(String name) throws Refused {
            key(name);
            expect('"');
            StringBuilder out = null;
            int start = at;
            while (at < s.length()) {
                char c = s.charAt(at);
                if (c == '"') {
                    String plain = s.substring(start, at);
                    at++;
                    return out == null ? plain : out.append(plain).toString();
                }
                if (c < 0x20) {
                    throw Refused.INSTANCE;
                }
                if (c != '\\') {
                    at++;
                    continue;
                }
                if (out == null) {
                    out = new StringBuilder();
                }
                out.append(s, start, at);
                out.append(escape());
                start = at;
            }
            throw Refused.INSTANCE;
        }

        private char escape() throws Refused {
            if (at + 1 >= s.length()) {
                throw Refused.INSTANCE;
            }
            char e = s.charAt(at + 1);
            at += 2;
            switch (e) {
                case '"': return '"';
                case '\\': return '\\';
                case '/': return '/';
                case 'b': return '\b';
                case 'f': return '\f';
                case 'n': return '\n';
                case 'r': return '\r';
                case 't': return '\t';
                case 'u':
                    if (at + 4 > s.length()) {
                        throw Refused.INSTANCE;
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(s.charAt(at + i), 16);
                        if (d < 0 || s.charAt(at + i) > 'f') {
                            throw Refused.INSTANCE;
                        }
                        code = code * 16 + d;
                    }
                    at += 4;
                    if (Character.isSurrogate((char) code)) {
                        throw Refused.INSTANCE;
                    }
                    return (char) code;
                default:
                    throw Refused.INSTANCE;
            }
        }

        /** An integer in 0..2^63-1 as a log writes it: no sign, no leading zero, 18 digits at most. */
        private long number() throws Refused {
            int start = at;
            while (at < s.length() && s.charAt(at) >= '0' && s.charAt(at) <= '9') {
                at++;
            }
            int digits = at - start;
            if (digits == 0 || digits > 18 || (digits > 1 && s.charAt(start) == '0')) {
                throw Refused.INSTANCE;
            }
            return Long.parseLong(s, start, at, 10);
        }

        private long integer(String name) throws Refused {
            key(name);
            return number();
        }

        private List<Long> integers(String name) throws Refused {
            key(name);
            expect('[');
            List<Long> out = new ArrayList<>();
            if (at < s.length() && s.charAt(at) == ']') {
                at++;
                return out;
            }
            while (true) {
                out.add(number());
                if (at < s.length() && s.charAt(at) == ']') {
                    at++;
                    return out;
                }
                expect(',');
                optionalSpace();
            }
        }

        // ------------------------------------------------------------ the values

        /** {@code /Date(<1-15 digits>)/} within the bounds, in Unix ms. */
        private static long clickMs(String created) throws Refused {
            int n = created.length();
            if (!created.startsWith("/Date(") || !created.endsWith(")/") || n < 9 || n > 23) {
                throw Refused.INSTANCE;
            }
            for (int i = 6; i < n - 2; i++) {
                char c = created.charAt(i);
                if (c < '0' || c > '9') {
                    throw Refused.INSTANCE;
                }
            }
            long ms = Long.parseLong(created, 6, n - 2, 10);
            if (ms < MIN_MS || ms >= MAX_MS) {
                throw Refused.INSTANCE;
            }
            return ms;
        }

        /** {@code YYYY-MM-DDTHH:MM:SS.ffffff+00:00}, a real time within the bounds, in Unix µs. */
        private static long micros(String t) throws Refused {
            if (t.length() != 32 || !t.endsWith("+00:00")) {
                throw Refused.INSTANCE;
            }
            for (int i = 0; i < 26; i++) {
                char c = t.charAt(i);
                char want = "dddd-dd-ddTdd:dd:dd.dddddd".charAt(i);
                if (want == 'd' ? (c < '0' || c > '9') : c != want) {
                    throw Refused.INSTANCE;
                }
            }
            LocalDateTime ts;
            try {
                ts = LocalDateTime.of(
                        digits(t, 0, 4), digits(t, 5, 7), digits(t, 8, 10), digits(t, 11, 13),
                        digits(t, 14, 16), digits(t, 17, 19), digits(t, 20, 26) * 1000);
            } catch (DateTimeException notATime) {
                throw Refused.INSTANCE;
            }
            long micros = ts.toEpochSecond(ZoneOffset.UTC) * 1_000_000L + digits(t, 20, 26);
            if (micros < MIN_MS * 1000L || micros >= MAX_MS * 1000L) {
                throw Refused.INSTANCE;
            }
            return micros;
        }

        private static int digits(String t, int from, int to) {
            return Integer.parseInt(t, from, to, 10);
        }

        /** xxhash64 (seed 0) of {@code SessionId|DocumentId|click ms}, 16 lower-case hex digits. */
        private static String dedupKey(String sessionId, long documentId, long clickMs) {
            byte[] bytes = (sessionId + "|" + documentId + "|" + clickMs)
                    .getBytes(StandardCharsets.UTF_8);
            long h = XXH64.hashUnsafeBytes(bytes, Platform.BYTE_ARRAY_OFFSET, bytes.length, 0L);
            char[] out = new char[16];
            for (int i = 15; i >= 0; i--) {
                out[i] = HEX[(int) (h & 0xF)];
                h >>>= 4;
            }
            return new String(out);
        }

        /** {@code ",Oncology, Surgery"} → [Oncology, Surgery]; printable ASCII, so strip()
         * removes the spaces Python's strip() removes. */
        private static List<String> splitAreas(String areas) {
            List<String> out = new ArrayList<>();
            for (String part : areas.split(",", -1)) {
                String area = part.strip();
                if (!area.isEmpty()) {
                    out.add(area);
                }
            }
            return out;
        }
    }
}
