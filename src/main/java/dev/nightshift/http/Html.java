package dev.nightshift.http;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Building blocks of the dashboard's HTML. Every value from the database or a request goes
 * through {@link #esc}, in text and in attributes alike. Stateless.
 */
final class Html {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private Html() {
    }

    /** Escapes the five characters that matter in HTML text and quoted attribute values. */
    static String esc(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** The whole page around {@code main}; scripts and styles come from /static (the CSP allows nothing inline). */
    static String page(String title, String node, String main) {
        return """
                <!doctype html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>%s · nightshift</title>
                <link rel="stylesheet" href="/static/dashboard.css">
                <script src="/static/dashboard.js" defer></script>
                </head>
                <body>
                <header class="top">
                  <a class="brand" href="/"><span class="moon">☾</span> nightshift</a>
                  <a class="nav" href="/runs">Runs</a>
                  <a class="nav" href="/audit">Audit</a>
                  <span class="node" title="the node that rendered this page">node %s</span>
                  <form class="token" id="token-form">
                    <label for="token">Admin token</label>
                    <input id="token" type="password" autocomplete="off" placeholder="needed for actions">
                    <span class="token-state" id="token-state"></span>
                  </form>
                </header>
                <main id="main">
                %s
                </main>
                <div id="toast" class="toast" role="status" aria-live="polite" hidden></div>
                %s
                </body>
                </html>
                """.formatted(esc(title), esc(node), main, triggerDialog() + backfillDialog());
    }

    private static String triggerDialog() {
        return """
                <dialog id="trigger-dialog">
                  <form method="dialog" id="trigger-form">
                    <h3>Trigger <span id="trigger-job"></span></h3>
                    <label for="trigger-params">Parameters, one <code>name=value</code> per line</label>
                    <textarea id="trigger-params" rows="4" spellcheck="false"></textarea>
                    <label for="trigger-key">Idempotency key (optional)</label>
                    <input id="trigger-key" type="text" autocomplete="off">
                    <label for="trigger-at">Slot (optional; ISO-8601 with offset, e.g. 2026-03-01T00:00Z; default: the latest)</label>
                    <input id="trigger-at" type="text" autocomplete="off" placeholder="2026-03-01T00:00Z">
                    <div class="dialog-buttons">
                      <button type="button" class="btn" id="trigger-cancel">Close</button>
                      <button type="submit" class="btn primary" id="trigger-submit">Run now</button>
                    </div>
                  </form>
                </dialog>
                """;
    }

    private static String backfillDialog() {
        return """
                <dialog id="backfill-dialog">
                  <form method="dialog" id="backfill-form">
                    <h3>Backfill <span id="backfill-job"></span></h3>
                    <label for="backfill-from">From (first slot at or after; ISO-8601 with offset)</label>
                    <input id="backfill-from" type="text" autocomplete="off" placeholder="2026-03-01T00:00Z" required>
                    <label for="backfill-to">To (slots before; not in the future)</label>
                    <input id="backfill-to" type="text" autocomplete="off" placeholder="2026-04-01T00:00Z" required>
                    <label for="backfill-reprocess">Slots that already ran</label>
                    <select id="backfill-reprocess">
                      <option value="none">leave them (none)</option>
                      <option value="failed">re-run the failed ones (failed)</option>
                      <option value="all">re-run every one (all)</option>
                    </select>
                    <label for="backfill-max-active">At most this many runs at once (optional)</label>
                    <input id="backfill-max-active" type="number" min="1" step="1">
                    <label class="check"><input id="backfill-reverse" type="checkbox"> newest slot first</label>
                    <div class="dialog-buttons">
                      <button type="button" class="btn" id="backfill-close">Close</button>
                      <button type="submit" class="btn primary" id="backfill-submit">Start backfill</button>
                    </div>
                  </form>
                </dialog>
                """;
    }

    /** A coloured label for a run state. */
    static String state(String state) {
        return "<span class=\"badge state-" + esc(state) + "\">" + esc(state) + "</span>";
    }

    /** "5m ago" / "in 2h 3m", with the exact UTC time as a tooltip; an empty cell for null. */
    static String when(Instant t, Instant now) {
        if (t == null) {
            return "<span class=\"muted\">–</span>";
        }
        Duration d = Duration.between(t, now);
        String rel = d.isNegative() ? "in " + span(d.negated()) : span(d) + " ago";
        return "<time datetime=\"" + esc(t) + "\" title=\"" + esc(TIME.format(t)) + "\">" + esc(rel) + "</time>";
    }

    static String absolute(Instant t) {
        return t == null ? "–" : TIME.format(t);
    }

    /** A duration in its two largest units: 3d 4h, 2h 5m, 4m 10s, 12.3s, 250ms. */
    static String span(Duration d) {
        long s = d.toSeconds();
        if (s >= 86_400) {
            return s / 86_400 + "d " + s % 86_400 / 3600 + "h";
        }
        if (s >= 3600) {
            return s / 3600 + "h " + s % 3600 / 60 + "m";
        }
        if (s >= 60) {
            return s / 60 + "m " + s % 60 + "s";
        }
        if (s >= 10) {
            return s + "s";
        }
        long ms = d.toMillis();
        return ms >= 1000 ? String.format("%.1fs", ms / 1000.0) : ms + "ms";
    }

    /** A button the dashboard's script turns into an authenticated POST. */
    static String action(String label, String url, String style, String confirm) {
        return "<button type=\"button\" class=\"btn " + esc(style) + "\" data-post=\"" + esc(url) + "\""
                + (confirm == null ? "" : " data-confirm=\"" + esc(confirm) + "\"") + ">" + esc(label) + "</button>";
    }
}
