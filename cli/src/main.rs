//! `hatang`: the command line for city infrastructure inventories. Thin: parse arguments, call
//! `hatang-core` (pure work) and `hatang-driver` (devices: audit, apply, lab), print. Exit codes:
//! 0 ok, 1 invalid inventory (or drift, or an apply that did not commit), 2 usage (bad arguments
//! or paths).

mod args;
mod commands;
mod ledger_file;
mod output;

use std::process::ExitCode;

use clap::Parser;

// Loading allocates many small strings and maps; mimalloc makes that markedly cheaper than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // `hatang … | head` must end quietly, like other Unix tools, not panic on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hatang: {err:#}");
            ExitCode::from(2)
        }
    }
}
