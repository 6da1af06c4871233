//! `cargo run --release -p jiuloop-tests --bin loadgen -- [--quick] [--reps R …]`: see
//! `jiuloop_tests::load` and `--help`.

use clap::Parser;
use jiuloop_tests::load::args::LoadArgs;
use std::process::ExitCode;

fn main() -> ExitCode {
    jiuloop_tests::load::procfs::lean_malloc_or_reexec();
    let args = LoadArgs::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(jiuloop_tests::load::run::main(args)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => {
            eprintln!("loadgen: {n} errors");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
