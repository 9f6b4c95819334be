//! How a run of `hatang` ends, as its exit code tells scripts. A command that runs to the end
//! gives a [`Verdict`] (0 or 1); one that cannot gives an error, and the error's type decides the
//! code: a [`Usage`] error (2) or anything else, a runtime failure (3). Nothing here looks at
//! message text.

use std::fmt;
use std::process::ExitCode;

/// The exit codes, for `hatang --help` (the README says the same).
pub(crate) const HELP: &str = "\
Exit codes:
  0  ok (warnings allowed)
  1  the inventory is invalid, or the command found problems: drift, an apply that did not
     commit, a ledger change under --locked, an address nobody owns, a lab that is not up,
     a failure that cuts an office off or a single point of failure (whatif)
  2  usage: bad arguments, input paths that name nothing, a combination that cannot work
  3  runtime failure: an unreachable cluster or device, an I/O error, a file that cannot be
     written";

/// What a command found, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing to report beyond warnings: exit code 0.
    Ok,
    /// The inventory is invalid or the command found problems (it printed them): exit code 1.
    Problems,
}

impl Verdict {
    /// `Problems` when `found`, else `Ok`.
    pub(crate) fn problems_if(found: bool) -> Verdict {
        if found {
            Verdict::Problems
        } else {
            Verdict::Ok
        }
    }
}

/// A command asked for something it cannot do: bad arguments, an input path that names nothing,
/// options that contradict each other. Exit code 2; every other error is a runtime failure.
#[derive(Debug)]
pub(crate) struct Usage(anyhow::Error);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Usage {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// `error` as a usage error.
pub(crate) fn usage(error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Usage(error.into()))
}

/// A usage error with a formatted message, like `anyhow!`.
macro_rules! usage_error {
    ($($arg:tt)*) => {
        $crate::exit::usage(anyhow::anyhow!($($arg)*))
    };
}
pub(crate) use usage_error;

/// Marks the error of a result as a usage error.
pub(crate) trait OrUsage<T> {
    /// The result, its error a [`Usage`] error.
    fn or_usage(self) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> OrUsage<T> for Result<T, E> {
    fn or_usage(self) -> anyhow::Result<T> {
        self.map_err(usage)
    }
}

/// Reading a file or directory the user named failed: a usage error when it names nothing (or a
/// directory where a file is wanted, or the reverse), a runtime failure otherwise.
pub(crate) fn input(path: &std::path::Path, error: std::io::Error) -> anyhow::Error {
    let names_nothing = names_nothing(&error);
    let error = anyhow::Error::new(error).context(format!("cannot read `{}`", path.display()));
    if names_nothing { usage(error) } else { error }
}

/// Whether an I/O error says the path is wrong rather than the system.
pub(crate) fn names_nothing(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{IsADirectory, NotADirectory, NotFound};
    matches!(error.kind(), NotFound | NotADirectory | IsADirectory)
}

/// The exit code of a finished command.
pub(crate) fn code(result: &anyhow::Result<Verdict>) -> u8 {
    match result {
        Ok(Verdict::Ok) => 0,
        Ok(Verdict::Problems) => 1,
        Err(e) if e.chain().any(|cause| cause.is::<Usage>()) => 2,
        Err(_) => 3,
    }
}

/// [`code`] as the process's exit code.
pub(crate) fn exit_code(result: &anyhow::Result<Verdict>) -> ExitCode {
    ExitCode::from(code(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::{Context, anyhow};

    #[test]
    fn verdicts_and_error_types_give_the_documented_codes() {
        assert_eq!(code(&Ok(Verdict::Ok)), 0);
        assert_eq!(code(&Ok(Verdict::Problems)), 1);
        assert_eq!(
            code(&Err(usage_error!("no device `x` in the inventory"))),
            2
        );
        assert_eq!(code(&Err(anyhow!("connection refused"))), 3);
        assert_eq!(Verdict::problems_if(true), Verdict::Problems);
        assert_eq!(Verdict::problems_if(false), Verdict::Ok);
    }

    #[test]
    fn a_usage_error_stays_one_under_context_and_keeps_its_message() {
        let e = Err::<(), _>(usage_error!("`abc` is not an address"))
            .context("ipam find")
            .unwrap_err();
        assert_eq!(format!("{e:#}"), "ipam find: `abc` is not an address");
        assert_eq!(code(&Err(e)), 2);
    }

    #[test]
    fn a_missing_input_is_usage_and_other_io_failures_are_runtime() {
        let path = std::path::Path::new("no/such/file");
        let missing = input(path, std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(code(&Err(missing)), 2);
        let denied = input(
            path,
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        let shown = format!("{denied:#}");
        assert!(shown.starts_with("cannot read `no/such/file`: "), "{shown}");
        assert_eq!(code(&Err(denied)), 3);
    }

    #[test]
    fn the_help_lists_every_code() {
        for n in 0..=3 {
            assert!(HELP.contains(&format!("\n  {n}  ")), "{n}");
        }
    }
}
