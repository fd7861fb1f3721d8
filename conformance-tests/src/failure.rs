//! How a case reports what went wrong: the case, the step, expected versus actual.

use std::fmt::{self, Debug};

use session_core::Error;

/// A failed conformance check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case that failed.
    pub case: &'static str,
    /// The step within the case.
    pub step: String,
    /// What the contract requires.
    pub expected: String,
    /// What the store did.
    pub actual: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance case `{}` failed at step \"{}\"\n  expected: {}\n  actual:   {}",
            self.case, self.step, self.expected, self.actual
        )
    }
}

impl std::error::Error for Failure {}

/// What every case returns.
pub type CaseResult = Result<(), Failure>;

/// Assertion helpers bound to one case's name.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    case: &'static str,
}

impl Check {
    /// Helpers for the case named `case`.
    pub fn new(case: &'static str) -> Self {
        Check { case }
    }

    /// A failure at `step`.
    pub fn fail(
        &self,
        step: &str,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) -> Failure {
        Failure {
            case: self.case,
            step: step.to_owned(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }

    /// The value of an `Ok`, or a failure naming the error.
    pub fn ok<T>(&self, step: &str, result: Result<T, Error>) -> Result<T, Failure> {
        result.map_err(|e| self.fail(step, "Ok(..)", format!("Err({e:?})")))
    }

    /// `expected == actual`.
    pub fn eq<T: PartialEq + Debug>(&self, step: &str, expected: T, actual: T) -> CaseResult {
        if expected == actual {
            Ok(())
        } else {
            Err(self.fail(step, format!("{expected:?}"), format!("{actual:?}")))
        }
    }

    /// `cond` holds; `expected` describes it.
    pub fn that(&self, step: &str, cond: bool, expected: &str, actual: impl Debug) -> CaseResult {
        if cond {
            Ok(())
        } else {
            Err(self.fail(step, expected, format!("{actual:?}")))
        }
    }

    /// The result is an error matching `want` (named `name` in the report).
    pub fn err<T: Debug>(
        &self,
        step: &str,
        result: Result<T, Error>,
        name: &str,
        want: impl Fn(&Error) -> bool,
    ) -> CaseResult {
        match result {
            Err(e) if want(&e) => Ok(()),
            other => Err(self.fail(step, format!("Err({name})"), format!("{other:?}"))),
        }
    }

    /// The result is `Err(Unsupported)`: what a store answers for a capability it lacks.
    pub fn unsupported<T: Debug>(&self, step: &str, result: Result<T, Error>) -> CaseResult {
        self.err(step, result, "Unsupported", |e| {
            matches!(e, Error::Unsupported(_))
        })
    }
}
