//! Whatever a client sends as a cookie, `load` answers `Ok(None)` unless it names a
//! live record (contract rule 2).

use session_core::{SessionId, ID_TEXT_LEN};

use crate::{CaseResult, Check, Harness};

async fn expect_none(h: &Harness, c: Check, values: &[String]) -> CaseResult {
    let fx = h.fixture().await;
    for v in values {
        let shown: String = v.chars().take(60).collect();
        let step = format!("load({shown:?}, {} bytes)", v.len());
        let result = fx.store().load(v).await;
        c.that(
            &step,
            matches!(result, Ok(None)),
            "Ok(None)",
            result.map(|r| r.map(|r| r.id)),
        )?;
    }
    Ok(())
}

/// A well-formed id that was never stored.
pub async fn load_unknown_id(h: &Harness) -> CaseResult {
    let c = Check::new("load_unknown_id");
    expect_none(h, c, &[SessionId::generate().to_string()]).await
}

/// Empty, short, wrong-charset and non-canonical values.
pub async fn load_malformed_ids(h: &Harness) -> CaseResult {
    let c = Check::new("load_malformed_ids");
    let valid = SessionId::generate().to_string();
    let values = vec![
        String::new(),
        "a".into(),
        " ".repeat(ID_TEXT_LEN),
        format!("{}=", &valid[..ID_TEXT_LEN - 1]),
        format!("{}B", "A".repeat(ID_TEXT_LEN - 1)),
        format!("{valid} "),
        valid.to_uppercase(),
        "%00%2e%2e".into(),
        "\u{feff}".repeat(20),
        "é".repeat(ID_TEXT_LEN),
        "{\"id\": 1}".into(),
        "'; DROP TABLE sessions; --".into(),
        "*".into(),
        "\r\nSet-Cookie: x=y".into(),
    ];
    expect_none(h, c, &values).await
}

/// Values far longer than any id (10 kB and 100 kB).
pub async fn load_overlong_id(h: &Harness) -> CaseResult {
    let c = Check::new("load_overlong_id");
    let values = vec!["A".repeat(10_000), "x_-".repeat(34_000)];
    expect_none(h, c, &values).await
}

/// Path-like values: traversal, absolute paths, NUL bytes, encoded separators.
pub async fn load_path_like_ids(h: &Harness) -> CaseResult {
    let c = Check::new("load_path_like_ids");
    let values = vec![
        "../x".into(),
        "../../etc/passwd".into(),
        "..%2f..%2fetc%2fpasswd".into(),
        "/etc/passwd".into(),
        "C:\\Windows\\win.ini".into(),
        "x\0y".into(),
        format!("{}\0", "a".repeat(ID_TEXT_LEN - 1)),
        format!("../{}", "a".repeat(ID_TEXT_LEN - 3)),
        ".".into(),
        "..".into(),
        format!("{}/{}", "a".repeat(21), "b".repeat(21)),
    ];
    expect_none(h, c, &values).await
}
