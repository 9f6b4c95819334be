//! The HTML report in a real headless Chromium (Debian's `chromium`, installed by
//! scripts/test.sh): it loads with no console message at all, every target row is there with
//! its status, the tables sort when a header is clicked, and a screenshot and a PDF are kept
//! under target/report-html/ as artifacts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hatang_test_support::{repo, text};
use serde_json::Value;

const TODAY: &str = "2026-12-06";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run hatang")
}

fn artifacts() -> PathBuf {
    let dir = repo().join("target/report-html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `page` with `mode` (`--dump-dom`, `--screenshot=…`, …), in a
/// fresh profile. Fails the test when chromium is not installed: it is part of the test setup.
fn chromium(page: &Path, mode: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(mode)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run chromium ({e}): scripts/test.sh installs it"));
    assert!(o.status.success(), "chromium failed: {}", text(&o));
    o
}

/// The console messages Chromium logged (`:INFO:CONSOLE:` lines: console calls and uncaught
/// exceptions alike).
fn console(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

fn report(inventory: &str, format: &str, out: &Path) {
    let o = hatang(&[
        "report",
        inventory,
        "--today",
        TODAY,
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_page_with_a_script_error_is_caught() {
    // The check below is only worth something if it sees errors: a broken page must show one.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>notDefined();</script></body></html>",
    )
    .unwrap();
    let o = chromium(&page, &["--dump-dom"]);
    let messages = console(&o);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("notDefined is not defined")),
        "the error went unseen: {}",
        text(&o)
    );
}

#[test]
fn the_html_report_loads_cleanly_with_every_target_and_its_status() {
    for city in ["hanoi", "haiphong"] {
        let inv = format!("inventories/{city}");
        let page = artifacts().join(format!("{city}.html"));
        report(&inv, "html", &page);
        let html = std::fs::read_to_string(&page).unwrap();
        // Self-contained: nothing fetched from anywhere (the SVG namespace is only a name).
        let outside = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for needle in ["http://", "https://", "<link", " src="] {
            assert!(
                !outside.contains(needle),
                "{city}: the page refers outside: {needle}"
            );
        }
        let o = chromium(&page, &["--dump-dom"]);
        assert_eq!(
            console(&o),
            Vec::<String>::new(),
            "{city}: console messages"
        );
        let dom = String::from_utf8_lossy(&o.stdout);
        let json = artifacts().join(format!("{city}.json"));
        report(&inv, "json", &json);
        let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let targets = r["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{city} has targets");
        for t in targets {
            let row = format!(
                "<tr class=\"target\" data-target=\"{}\" data-status=\"{}\">",
                t["name"].as_str().unwrap(),
                t["status"].as_str().unwrap()
            );
            let at = dom
                .find(&row)
                .unwrap_or_else(|| panic!("{city}: no row {row}"));
            let end = at + dom[at..].find("</tr>").unwrap();
            let label = match t["status"].as_str().unwrap() {
                "met" => "Đạt (met)",
                "not-met" => "Chưa đạt (not met)",
                "overdue" => "Quá hạn (overdue)",
                other => panic!("{other}"),
            };
            assert!(dom[at..end].contains(label), "{city}: {row} lacks {label}");
        }
        assert_eq!(dom.matches("<tr class=\"target\"").count(), targets.len());
        assert!(dom.contains("<svg class=\"chart\""), "{city}: no chart");

        let png = artifacts().join(format!("{city}.png"));
        let _ = std::fs::remove_file(&png);
        chromium(
            &page,
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1280,2400",
                "--hide-scrollbars",
            ],
        );
        let bytes = std::fs::read(&png).expect("a screenshot");
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{city}: screenshot"
        );

        let pdf = artifacts().join(format!("{city}.pdf"));
        let _ = std::fs::remove_file(&pdf);
        chromium(
            &page,
            &[
                &format!("--print-to-pdf={}", pdf.display()),
                "--no-pdf-header-footer",
            ],
        );
        assert!(
            std::fs::read(&pdf).expect("a PDF").starts_with(b"%PDF"),
            "{city}: PDF"
        );
    }
}

#[test]
fn clicking_a_header_sorts_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hanoi.html");
    report("inventories/hanoi", "html", &page);
    // Click "Hiện tại (Value)" once (ascending), then write the row order where the DOM dump
    // shows it.
    let probe = r##"<script>
var th = document.querySelectorAll("#targets th")[4];
th.click();
var order = Array.prototype.map.call(document.querySelectorAll("#targets tbody tr"),
  function (r) { return r.cells[4].dataset.sort; });
var pre = document.createElement("pre"); pre.id = "order"; pre.textContent = order.join(" ");
document.body.appendChild(pre);
</script></body>"##;
    let html = std::fs::read_to_string(&page)
        .unwrap()
        .replace("</body>", probe);
    std::fs::write(&page, html).unwrap();
    let o = chromium(&page, &["--dump-dom"]);
    assert_eq!(console(&o), Vec::<String>::new());
    let dom = String::from_utf8_lossy(&o.stdout);
    let start = dom.find("<pre id=\"order\">").expect("the probe ran") + "<pre id=\"order\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let values: Vec<f64> = dom[start..end]
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(values.len() >= 8, "{values:?}");
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "not ascending: {values:?}"
    );
    assert!(
        values.first() < values.last(),
        "nothing to sort: {values:?}"
    );
}
