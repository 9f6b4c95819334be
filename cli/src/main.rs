//! `hatang`: the command line for city infrastructure inventories. Thin: parse arguments, call
//! `hatang-core` (pure work), `hatang-driver` (devices: audit, apply), `hatang-lab` and
//! `hatang-kube-api`, print. It holds no inventory logic of its own. Exit codes (`exit.rs`): 0 ok,
//! 1 the inventory is invalid or the command found problems (drift, an apply that did not
//! commit), 2 usage (bad arguments or paths), 3 runtime failures (unreachable cluster or device,
//! I/O).

mod args;
mod commands;
mod exit;
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
    let result = commands::run(cli);
    if let Err(err) = &result {
        eprintln!("hatang: {err:#}");
    }
    exit::exit_code(&result)
}
