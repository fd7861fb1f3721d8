//! `--metrics ADDR`: the demo serves its session metrics in Prometheus' text format,
//! and a login counts exactly what it did to the store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::{demo_command, start, Framework};

async fn login_is_counted_on_the_metrics_endpoint(framework: Framework) {
    let mut cmd = demo_command("memory://", framework);
    cmd.env(
        "SESSION_SECRET",
        "demo-metrics-test-signing-secret-0123456789abcdef",
    )
    .env("DEMO_METRICS", "127.0.0.1:0");
    let running = start(cmd);
    let metrics_addr = running
        .printed()
        .split_once("metrics on http://")
        .and_then(|(_, rest)| rest.split_once("/metrics"))
        .map(|(addr, _)| addr.to_owned())
        .unwrap_or_else(|| panic!("no metrics address printed:\n{}", running.printed()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{}", running.addr);
    // The login creates the session (its flash inside); the page it sends the browser
    // to loads it and takes the flash, a save.
    let login = client.get(format!("{base}/login")).send().await.unwrap();
    assert!(login.status().is_redirection(), "{}", login.status());
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("logged in"));

    let metrics: std::net::SocketAddr = metrics_addr.parse().unwrap();
    let scraped = common::Browser::new(metrics).get("/metrics").await;
    let value = |series: &str| -> Option<f64> {
        scraped
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };
    let ops = |op: &str, outcome: &str| {
        format!(
            r#"session_store_operations_total{{backend="memory",op="{op}",outcome="{outcome}"}}"#
        )
    };
    for (series, expected) in [
        (ops("create", "ok"), 1.0),
        (ops("load", "hit"), 1.0),
        (ops("save", "ok"), 1.0),
        (
            r#"session_requests_total{finish="created"}"#.to_owned(),
            1.0,
        ),
        (r#"session_requests_total{finish="saved"}"#.to_owned(), 1.0),
        (
            r#"session_store_duration_seconds_count{backend="memory",op="load"}"#.to_owned(),
            1.0,
        ),
    ] {
        assert_eq!(value(&series), Some(expected), "{series} in:\n{scraped}");
    }
    // Nothing else was written: no touch, no delete, no conflict.
    for absent in [
        ops("touch", "ok"),
        ops("delete", "ok"),
        ops("save", "conflict"),
    ] {
        assert_eq!(value(&absent), None, "{absent} in:\n{scraped}");
    }
    assert!(
        scraped.contains("# HELP session_store_operations_total"),
        "{scraped}"
    );
    assert!(
        scraped.contains(
            r#"session_store_duration_seconds_bucket{backend="memory",op="load",le="0.001"}"#
        ),
        "{scraped}"
    );
}

common::per_framework! {
    #[tokio::test] login_is_counted_on_the_metrics_endpoint,
}
