//! The progress display of long walks: an indicatif spinner with counters on stderr,
//! shown only when stderr is a terminal and `--quiet` is off.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress of one walk; does nothing when hidden.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A display for a walk described by `what` (e.g. "gc"), hidden when `quiet` or
    /// when stderr is not a terminal (cron, pipes, CI).
    pub fn new(what: &str, quiet: bool) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} {prefix}: {human_pos} sessions scanned, {msg} [{elapsed}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_prefix(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        Progress { bar }
    }

    /// Counts `n` more scanned sessions and shows `message` after the counter.
    pub fn advance(&self, n: u64, message: String) {
        self.bar.inc(n);
        self.bar.set_message(message);
    }

    /// Removes the display, leaving the terminal for the final report.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
