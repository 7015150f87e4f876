package dev.nightshift.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nightshift.cli.Daemon;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Http;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import dev.nightshift.testing.Tools;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import dev.nightshift.schedule.Slots;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in a real browser: Debian's headless Chromium driven by Selenium. Skipped where
 * chromium or chromedriver is not installed (.ci/ops-setup installs both). Screenshots go to
 * target/ for review.
 */
@Tag("process")
class DashboardBrowserTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final String TOKEN = "browser-admin-token-0123456789";

    static Daemon daemon;
    static Http http;
    static WebDriver browser;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Tools.require(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "chromium and chromedriver (apt-get install chromium chromium-driver, or .ci/ops-setup)");
        db.execute("CREATE TABLE sales (region text, amount numeric)");
        db.execute("INSERT INTO sales SELECT r, g FROM unnest(ARRAY['emea', 'amer', 'apac']) r, generate_series(1, 40) g");
        JobsDir jobs = new JobsDir(db.tempDir(), "dashboard")
                .sql("sales-report", "SELECT region, sum(amount) FROM sales WHERE region = current_setting('nightshift.param.region') GROUP BY region",
                        "description: daily sales by region <script>alert('xss')</script>\n")
                .sql("nightly-refresh", "SELECT count(*) FROM sales", "schedule:\n  cron: \"0 30 2 * * ?\"\n  timezone: Europe/Paris\n")
                .sql("ledger-import", "SELECT 1 / 0", "description: imports the ledger file\nmax_attempts: 1\n")
                .sql("long-rebuild", "SELECT pg_sleep(60)", "max_attempts: 1\n")
                .sql("hourly-summary", "SELECT pg_sleep(0.2)", "schedule:\n  cron: \"0 0 * * * ?\"\ndeadline: 30m\n")
                .sql("step-by-step", """
                        DO $$ BEGIN RAISE NOTICE 'step one'; END $$;
                        SELECT pg_sleep(2);
                        DO $$ BEGIN RAISE NOTICE 'step two'; END $$;
                        SELECT pg_sleep(2);
                        DO $$ BEGIN RAISE NOTICE 'step three'; END $$""", "max_attempts: 1\n");
        daemon = db.closeAfterAll(Daemon.start(db.settings(jobs.path(), Map.of(Setting.ADMIN_TOKEN, TOKEN))));
        http = new Http(daemon.httpPort());
        base = "http://127.0.0.1:" + daemon.httpPort();
        long failed = http.post("/api/jobs/ledger-import/trigger", null, TOKEN).json().path("run").path("id").asLong();
        http.post("/api/jobs/long-rebuild/trigger", null, TOKEN);
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + failed).json().path("state").asText().equals("dead"));
        browser = chromium();
    }

    @Test
    void the_period_grid_colours_each_slot_opens_its_run_and_charts_the_runs_against_the_deadline() throws Exception {
        // synced a day ago: its slots since then count against the deadline
        db.execute("UPDATE nightshift.job SET created_at = now() - interval '1 day' WHERE name = 'hourly-summary'");
        Instant latest = Slots.of("0 0 * * * ?", ZoneOffset.UTC).latestAtOrBefore(Instant.now());
        Instant previous = latest.minus(Duration.ofHours(1));
        for (Instant slot : List.of(previous, latest)) {
            long id = http.post("/api/jobs/hourly-summary/trigger", "{\"at\": \"" + slot + "\"}", TOKEN).json().path("run").path("id").asLong();
            await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + id).json().path("state").asText().equals("succeeded"));
        }
        browser.get(base + "/");
        WebElement row = browser.findElement(By.cssSelector("#periods tr[data-grid-job='hourly-summary']"));
        List<WebElement> cells = row.findElements(By.cssSelector(".cell"));
        assertThat(cells).hasSize(14);
        assertThat(cells.get(13).getAttribute("data-state")).isEqualTo("succeeded");
        assertThat(cells.get(12).getAttribute("data-state")).isEqualTo("succeeded");
        assertThat(cells.get(11).getAttribute("data-state")).as("two hours ago, never run, past its 30m deadline").isEqualTo("late");
        assertThat(row.findElements(By.cssSelector("svg.chart circle"))).hasSize(2);
        assertThat(row.findElements(By.cssSelector("svg.chart line.deadline"))).hasSize(1);
        // Running now: the elapsed time of a run that started moments ago is never negative
        assertThat(browser.findElement(By.cssSelector("#running .elapsed")).getText()).doesNotStartWith("-");
        screenshot("dashboard-grid.png");

        cells.get(13).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.getCurrentUrl().contains("/runs/"));
        assertThat(browser.findElement(By.id("run-period")).getText()).isEqualTo(
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC).format(previous) + " → "
                        + DateTimeFormatter.ofPattern(previous.atZone(ZoneOffset.UTC).toLocalDate().equals(latest.atZone(ZoneOffset.UTC).toLocalDate())
                        ? "HH:mm" : "yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC).format(latest));
        browser.navigate().back();
    }

    static WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1440,1000");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        WebDriver d = new ChromeDriver(service, options);
        d.manage().window().setSize(new Dimension(1440, 1000));
        return d;
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    /** The whole page, not only the window: the window grows to the page's height first. */
    static void screenshot(String name) throws Exception {
        Object height = ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("return document.documentElement.scrollHeight");
        browser.manage().window().setSize(new Dimension(1440, Math.max(900, ((Number) height).intValue() + 20)));
        File shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void a_running_runs_page_appends_its_log_lines_as_they_come_without_a_reload() throws Exception {
        long run = http.post("/api/jobs/step-by-step/trigger", null, TOKEN).json().path("run").path("id").asLong();
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/api/runs/" + run + "/log").body().contains("step one"));
        browser.get(base + "/runs/" + run);
        org.openqa.selenium.JavascriptExecutor js = (org.openqa.selenium.JavascriptExecutor) browser;
        // a mark on this document: a reload (or a navigation) would lose it
        js.executeScript("window.nightshiftMark = 'same page'");
        WebElement log = browser.findElement(By.id("run-log"));
        assertThat(log.getAttribute("data-live")).isEqualTo("true");
        assertThat(log.getText()).contains("step one").doesNotContain("step three");

        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("run-log")).getText().contains("step three")
                && browser.findElement(By.id("run-log")).getText().contains("succeeded"));
        await().atMost(Duration.ofSeconds(10)).until(() -> "false".equals(browser.findElement(By.id("run-log")).getAttribute("data-live")));
        assertThat(js.executeScript("return window.nightshiftMark")).isEqualTo("same page");
        String text = browser.findElement(By.id("run-log")).getText();
        assertThat(text.indexOf("step one")).isLessThan(text.indexOf("step two"));
        assertThat(text.indexOf("step two")).isLessThan(text.indexOf("step three"));
        // each line once, though the poller and the page's refresh both ran meanwhile
        assertThat(text.split("step two", -1)).hasSize(2);
        screenshot("dashboard-run-log.png");

        // the job's page: its runs and the tail of its last run's log
        browser.findElement(By.cssSelector("nav.crumbs a[href='/jobs/step-by-step']")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.getCurrentUrl().endsWith("/jobs/step-by-step"));
        assertThat(browser.findElement(By.id("job-log-tail")).getText()).contains("step three");
        assertThat(browser.findElements(By.cssSelector("#runs tr[data-run='" + run + "']"))).hasSize(1);
        screenshot("dashboard-job.png");
    }

    static WebElement jobRow(String job) {
        return browser.findElement(By.cssSelector("#jobs tr[data-job='" + job + "']"));
    }

    @Test
    void operator_triggers_a_job_with_the_token_sees_it_succeed_and_sees_a_failures_error() throws Exception {
        browser.get(base + "/");
        assertThat(browser.getTitle()).contains("nightshift");
        assertThat(browser.findElement(By.id("failures")).getText()).contains("ledger-import").contains("division by zero");
        assertThat(jobRow("nightly-refresh").getText()).contains("0 30 2 * * ?").contains("Europe/Paris").contains("in ");
        assertThat(browser.findElement(By.id("running")).getText()).contains("long-rebuild");

        browser.findElement(By.id("token")).sendKeys(TOKEN);
        jobRow("sales-report").findElement(By.cssSelector("button[data-trigger]")).click();
        browser.findElement(By.id("trigger-params")).sendKeys("region=emea");
        screenshot("dashboard-trigger.png");
        browser.findElement(By.id("trigger-submit")).click();

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                !jobRow("sales-report").findElements(By.cssSelector(".last-run .state-succeeded")).isEmpty());
        assertThat(db.queryString("SELECT params->>'region' FROM nightshift.run WHERE job_name = 'sales-report'")).isEqualTo("emea");
        screenshot("dashboard.png");

        jobRow("sales-report").findElement(By.cssSelector(".last-run a")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.getCurrentUrl().contains("/runs/"));
        assertThat(browser.findElement(By.id("params")).getText()).contains("region").contains("emea");
        assertThat(browser.findElement(By.id("counts")).getText()).contains("rows");
        screenshot("dashboard-run-succeeded.png");
        browser.navigate().back();

        browser.findElement(By.cssSelector("#failures a")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.getCurrentUrl().contains("/runs/"));
        assertThat(browser.findElement(By.id("run-error")).getText()).contains("division by zero");
        assertThat(browser.findElement(By.cssSelector(".run-head")).getText()).contains("dead");
        screenshot("dashboard-run.png");
    }

    @Test
    void values_are_shown_as_text_never_run_as_html() {
        browser.get(base + "/");
        assertThat(jobRow("sales-report").getText()).contains("<script>alert('xss')</script>");
        assertThat(browser.findElements(By.tagName("script"))).hasSize(1);
        assertThat(http.get("/").body()).contains("&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;");
        assertThat(http.get("/").header("Content-Security-Policy")).contains("script-src 'self'");
    }

    @Test
    void an_action_without_the_token_asks_for_it_and_changes_nothing() throws Exception {
        browser.get(base + "/");
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("sessionStorage.clear()");
        browser.navigate().refresh();
        jobRow("nightly-refresh").findElement(By.cssSelector("button[data-post$='/pause']")).click();
        browser.switchTo().alert().accept();
        await().atMost(Duration.ofSeconds(5)).until(() -> browser.findElement(By.id("toast")).getText().contains("admin token"));
        assertThat(db.queryString("SELECT paused FROM nightshift.job WHERE name = 'nightly-refresh'")).isEqualTo("f");
    }
}
