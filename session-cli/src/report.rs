//! What a command prints: one JSON object with `--json`, else text for people.

use std::io::Write;

use serde_json::Value;

/// A command's result, in both forms.
#[derive(Debug)]
pub struct Report {
    /// The `--json` form: one object.
    pub json: Value,
    /// The text form, without a trailing newline.
    pub text: String,
}

impl Report {
    /// A report of `json`, shown to people as `text`.
    pub fn new(json: Value, text: impl Into<String>) -> Self {
        Report {
            json,
            text: text.into(),
        }
    }

    /// Prints the report on stdout: the JSON object with `json`, else the text unless
    /// `quiet`.
    pub fn print(&self, json: bool, quiet: bool) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if json {
            serde_json::to_writer(&mut out, &self.json)?;
            writeln!(out)?;
        } else if !quiet && !self.text.is_empty() {
            writeln!(out, "{}", self.text)?;
        }
        out.flush()
    }
}

/// "1 session" / "2 sessions".
pub fn sessions(n: u64) -> String {
    counted(n, "session")
}

/// `n` and `noun`, plural unless `n` is 1: "1 expired session", "2 expired sessions".
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural() {
        assert_eq!(sessions(0), "0 sessions");
        assert_eq!(sessions(1), "1 session");
        assert_eq!(counted(2, "expired session"), "2 expired sessions");
    }
}
